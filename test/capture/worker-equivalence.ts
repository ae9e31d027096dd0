/**
 * Replays a capture file twice through the built code (bench/built.ts: the capture read worker exists only in a
 * build) — read in the main thread, and read by the worker with the hot frames prepared — and returns both runs'
 * events, rejections and read stats, for tests that demand they be the same.
 */
import { importBuilt } from '../../bench/built.ts';

type Entry = typeof import('../../bench/replay-entry.ts');

export interface ReplayTrace {
  readonly events: string[];
  readonly rejected: unknown;
  readonly stats: unknown;
  readonly books: string;
  readonly badLines: { line: number; reason: string }[];
}

/** Frames that reached the decoders prepared by the worker (not as JSON), per run. */
export const preparedCounts: number[] = [];
/** The same by prepared class name (PreparedBinanceTrade …), per run. */
export const preparedKinds: Record<string, number>[] = [];

let built: Promise<Entry> | undefined;

export async function replayBothWays(
  path: string,
  maxLineBytes?: number,
  /** What the worker prepares (default 'all', so that every kind it can prepare is). */
  prepares: 'all' | 'core' | 'none' = 'all',
): Promise<[ReplayTrace, ReplayTrace]> {
  built ??= importBuilt<Entry>('bench/replay-entry.ts');
  const { readCaptureBatches, replay, SimClock, createDecoders } = await built;
  const run = async (worker: boolean): Promise<ReplayTrace> => {
    const events: string[] = [];
    const badLines: { line: number; reason: string }[] = [];
    const stats = { lines: 0, frames: 0, bad: 0, reasons: {}, samples: [], bytes: 0 };
    const decoders = createDecoders();
    let prepared = 0;
    const kinds: Record<string, number> = {};
    async function* counted<T extends { data: unknown }>(it: AsyncIterable<T[]>): AsyncGenerator<T[]> {
      for await (const batch of it) {
        for (const f of batch) {
          const name = f.data?.constructor?.name;
          if (!name?.startsWith('Prepared')) continue;
          prepared++;
          kinds[name] = (kinds[name] ?? 0) + 1;
        }
        yield batch;
      }
    }
    const r = await replay({
      frames: counted(
        readCaptureBatches(path, {
          worker,
          stats,
          onBad: (b) => badLines.push(b),
          ...(maxLineBytes !== undefined ? { maxLineBytes } : {}),
          workerPrepares: prepares,
        }),
      ),
      clock: new SimClock(),
      decoders,
      publish: (e) => events.push(JSON.stringify(e)),
    });
    preparedCounts.push(prepared);
    preparedKinds.push(kinds);
    return { events, rejected: r.rejected, stats, books: JSON.stringify(decoders.books()), badLines };
  };
  return [await run(false), await run(true)];
}

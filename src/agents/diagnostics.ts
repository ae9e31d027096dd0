/**
 * Diagnostic agents for exercising the bus across processes:
 * - `loadgen` publishes `count` numbered messages on the diagnostics channel at `rate` per second;
 * - `sink` consumes them exactly once by message id: each new id is appended to `<dir>/applied.log` and fsynced
 *   before its ack (group commit every `syncMs`), the file is reloaded at start, and a redelivered id is
 *   recognised and acked without being applied again. A SIGKILL between the fsync and the ack therefore costs a
 *   duplicate delivery, never a double apply or a loss.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Agent, AgentRuntime } from '../core/agent.ts';
import type { DeliveryControl } from '../core/bus/types.ts';
import { channels } from '../core/channels.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';

export const DiagSchema = z.object({
  /** 0-based sequence number within the load run */
  n: z.number().int().min(0),
  /** name of the run (loadgen's `run` option) */
  run: z.string(),
});
export type Diag = z.infer<typeof DiagSchema>;

/** The one channel the diagnostic agents talk on. */
export const diagChannel = channels.custom('diag.load', DiagSchema);

export const APPLIED_FILE = 'applied.log';

function intOption(
  options: Readonly<Record<string, string>>,
  key: string,
  dflt: number,
  min: number,
): number {
  const v = options[key];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`option ${key}=${JSON.stringify(v)}: expected a whole number ≥ ${min}`);
  }
  return n;
}

export interface LoadgenOptions {
  readonly count: number;
  /** messages per second; 0 = as fast as the bus takes them */
  readonly rate: number;
  readonly run?: string;
  /** publishing tick (default 10 ms) */
  readonly tickMs?: number;
}

export function createLoadgen(opts: LoadgenOptions): Agent {
  let sent = 0;
  let timer: TimerHandle | undefined;
  const tickMs = opts.tickMs ?? 10;
  const run = opts.run ?? 'load';
  return {
    name: 'loadgen',
    trading: false,
    start(rt: AgentRuntime) {
      const t0 = rt.clock.now();
      const tick = (): void => {
        const due =
          opts.rate > 0 ? Math.floor(((rt.clock.now() - t0 + tickMs) * opts.rate) / 1000) : sent + 2_000;
        const until = Math.min(opts.count, due);
        while (sent < until) rt.publish(diagChannel, { n: sent++, run });
        if (sent >= opts.count) {
          timer?.cancel();
          timer = undefined;
          rt.bus.flush().then(
            () => rt.log.info({ sent }, 'loadgen: all messages published'),
            () => undefined,
          );
        }
      };
      timer = rt.clock.every(tickMs, tick);
      tick();
    },
    stop() {
      timer?.cancel();
    },
    health: () => ({ sent, count: opts.count }),
  };
}

export interface SinkOptions {
  /** directory of the applied-id log (created if missing) */
  readonly dir: string;
  /** group-commit interval: how often applied ids are fsynced and their messages acked (default 20 ms) */
  readonly syncMs?: number;
  /** visibility timeout of the subscription (default 5,000 ms) */
  readonly visibilityMs?: number;
  /**
   * Fault injection: hold acks this long after the fsync (default 0). Widens the window in which a crash leaves
   * applied-but-unacked messages, so a test can see their redeliveries recognised as duplicates.
   */
  readonly ackLagMs?: number;
}

export interface Sink extends Agent {
  /** ids applied so far (including those reloaded from the log) */
  readonly applied: ReadonlyMap<string, number>;
  readonly duplicates: () => number;
}

/** Reads the applied-id log, dropping a torn last line (written but never fsynced and acked). */
export function readAppliedLog(file: string): Map<string, number> {
  const applied = new Map<string, number>();
  if (!existsSync(file)) return applied;
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, end)));
  for (const line of text.slice(0, end).split('\n')) {
    if (line === '') continue;
    const [id, n] = line.split('\t');
    if (id) applied.set(id, Number(n));
  }
  return applied;
}

export function createSink(opts: SinkOptions): Sink {
  const file = join(opts.dir, APPLIED_FILE);
  let applied = new Map<string, number>();
  let fd: number | undefined;
  let buffer = '';
  let waiting: DeliveryControl[] = [];
  const unsynced = new Set<string>();
  let duplicates = 0;
  let timer: TimerHandle | undefined;
  let clock: Clock | undefined;
  const lagging = new Set<DeliveryControl[]>();

  const commit = (lagged = true): void => {
    if (fd === undefined || waiting.length === 0) return;
    if (buffer !== '') {
      writeSync(fd, buffer);
      fsyncSync(fd);
      buffer = '';
      unsynced.clear();
    }
    const acks = waiting;
    waiting = [];
    const lag = lagged ? (opts.ackLagMs ?? 0) : 0;
    if (lag > 0 && clock) {
      lagging.add(acks);
      clock.after(lag, () => {
        lagging.delete(acks);
        for (const ctl of acks) ctl.ack();
      });
    } else for (const ctl of acks) ctl.ack();
  };

  return {
    name: 'sink',
    trading: false,
    get applied() {
      return applied;
    },
    duplicates: () => duplicates,
    start(rt: AgentRuntime) {
      clock = rt.clock;
      mkdirSync(opts.dir, { recursive: true });
      applied = readAppliedLog(file);
      fd = openSync(file, 'a');
      rt.subscribe(
        diagChannel,
        (m, ctl) => {
          if (applied.has(m.id)) {
            duplicates++;
            // a duplicate of an id not yet fsynced is acked with it
            if (unsynced.has(m.id)) waiting.push(ctl);
            else ctl.ack();
            return;
          }
          applied.set(m.id, m.body.n);
          unsynced.add(m.id);
          buffer += `${m.id}\t${m.body.n}\n`;
          waiting.push(ctl);
          if (waiting.length >= 1_000) commit();
        },
        { ack: 'manual', from: 'start', visibilityTimeoutMs: opts.visibilityMs ?? 5_000 },
      );
      timer = rt.clock.every(opts.syncMs ?? 20, () => commit());
    },
    stop() {
      timer?.cancel();
      commit(false);
      for (const acks of lagging) for (const ctl of acks) ctl.ack(); // acks are idempotent
      lagging.clear();
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
    health: () => ({ applied: applied.size, duplicates }),
  };
}

export function loadgenFromCli(o: Readonly<Record<string, string>>): Agent {
  return createLoadgen({
    count: intOption(o, 'count', 10_000, 0),
    rate: intOption(o, 'rate', 1_000, 0),
    run: o.run ?? 'load',
    tickMs: intOption(o, 'tickMs', 10, 1),
  });
}

export function sinkFromCli(o: Readonly<Record<string, string>>): Agent {
  if (!o.dir) throw new Error('sink needs --opt dir=PATH (where its applied-id log lives)');
  return createSink({
    dir: o.dir,
    syncMs: intOption(o, 'syncMs', 20, 1),
    visibilityMs: intOption(o, 'visibilityMs', 5_000, 1),
    ackLagMs: intOption(o, 'ackLagMs', 0, 0),
  });
}

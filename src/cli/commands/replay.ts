/**
 * `pm-arb replay FILE.jsonl [--books-out BOOKS.json] [--json]`: feeds a capture through the venues' parse code on
 * a simulated clock into an in-process bus, then reports what came out.
 */

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { newReadStats, readCaptureBatches } from '../../capture/reader.ts';
import { replay } from '../../capture/replay.ts';
import { createInProcBus } from '../../core/bus/inproc.ts';
import { SimClock } from '../../core/clock.ts';
import { loadConfig } from '../../core/config.ts';
import { instrumentKey, type OrderBook } from '../../core/messages.ts';
import { toDecimal } from '../../core/money.ts';
import { createDecoders } from '../../venues/registry.ts';
import { requireCapture, requireWritable } from '../files.ts';

/** Final books as `{"venue:tokenId": {"bids": [["price","size"], …best first], "asks": […]}}`, keys sorted. */
export function booksJson(
  books: Iterable<OrderBook>,
): Record<string, { bids: [string, string][]; asks: [string, string][] }> {
  const all = [...books].map((b) => [instrumentKey(b.venue, b.tokenId), b] as const);
  all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Record<string, { bids: [string, string][]; asks: [string, string][] }> = {};
  for (const [key, b] of all) {
    out[key] = {
      bids: b.bids.map((l) => [toDecimal(l[0]!), toDecimal(l[1]!)]),
      asks: b.asks.map((l) => [toDecimal(l[0]!), toDecimal(l[1]!)]),
    };
  }
  return out;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('replay a capture through the parse code on a simulated clock into the bus')
    .argument('<file>', 'capture file (.jsonl), recorded or simulated')
    .option('--books-out <file>', 'write the final book of every instrument as JSON')
    .option('--json', 'print counts of events by type and rejected frames with reasons as JSON')
    .action(async (file: string, o: { booksOut?: string; json?: boolean }) => {
      requireCapture(file, 'capture');
      if (o.booksOut) requireWritable(o.booksOut, '--books-out');
      const stats = newReadStats();
      // deep books so --books-out holds every level
      const decoders = createDecoders({ depth: 100_000 });
      const clock = new SimClock();
      const bus = createInProcBus({ name: 'replay', maxLen: 1000, clock });
      const started = Date.now();
      let lastPrint = started;
      const result = await replay({
        frames: readCaptureBatches(file, { stats, maxLineBytes: loadConfig().captureMaxLineBytes }),
        clock,
        decoders,
        publish: bus,
        progressEvery: 50_000,
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastPrint < 1000) return;
          lastPrint = now;
          process.stderr.write(
            `replay: ${p.frames} frames, ${p.events} events, ${p.rejected} rejected, at ${new Date(p.ts).toISOString()}\n`,
          );
        },
      });
      await bus.close();
      const elapsed = (Date.now() - started) / 1000;
      if (o.booksOut) {
        // one instrument per line: diffable and still plain JSON
        const entries = Object.entries(booksJson(decoders.books())).map(
          ([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`,
        );
        writeFileSync(o.booksOut, entries.length === 0 ? '{}\n' : `{\n${entries.join(',\n')}\n}\n`);
      }
      const summary = {
        file,
        frames: result.frames,
        events: result.events,
        rejected: result.rejected,
        badLines: { total: stats.bad, reasons: stats.reasons, samples: stats.samples },
        firstTs: result.firstTs ?? null,
        lastTs: result.lastTs ?? null,
      };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        const ev = Object.entries(result.events)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        process.stdout.write(
          `replayed ${result.frames} frames in ${elapsed.toFixed(2)} s: ${ev}; ` +
            `${result.rejected.total} frames rejected, ${stats.bad} bad lines\n`,
        );
        for (const [reason, n] of Object.entries(result.rejected.reasons))
          process.stdout.write(`  rejected ${n}× ${reason}\n`);
        for (const [reason, n] of Object.entries(stats.reasons))
          process.stdout.write(`  bad line ${n}× ${reason}\n`);
        if (o.booksOut) process.stdout.write(`books written to ${o.booksOut}\n`);
      }
    });
}

/**
 * `pm-arb replay FILE.jsonl [--books-out BOOKS.json] [--json]`: feeds a capture through the feed agents of the
 * assembly (venue watchers and oracle agents, the venues' parse code) on a simulated clock into an in-process bus,
 * then reports what came out.
 */

import { statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Kernel } from '../../core/agent.ts';
import { instrumentKey, type OrderBook } from '../../core/messages.ts';
import { toDecimal } from '../../core/money.ts';
import { tuneV8ForThroughput } from '../../core/v8-tuning.ts';
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
      // the first line at once; the feed agents (the venues' parse code, zod schemas) load after it
      if (!o.json) process.stderr.write(`replay: ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB)\n`);
      // a few seconds of one hot pipeline: less optimizing-compiler work (core/v8-tuning.ts)
      tuneV8ForThroughput();
      const [{ assemble }, { newReadStats }, { openCapture }, { createIds, startAgents }, inproc, cfg, log] =
        await Promise.all([
          import('../../app/assemble.ts'),
          import('../../capture/reader.ts'),
          import('../../capture/source.ts'),
          import('../../core/agent.ts'),
          import('../../core/bus/inproc.ts'),
          import('../../core/config.ts'),
          import('../../core/log.ts'),
        ]);
      const { createInProcBus } = inproc;
      const { loadConfig } = cfg;
      const { silentLogger } = log;
      const stats = newReadStats();
      const { hub, clock } = await openCapture(file, {
        stats,
        worker: true,
        maxLineBytes: loadConfig().captureMaxLineBytes,
      });
      const bus = createInProcBus({ name: 'replay', maxLen: 1000, clock });
      const kernel: Kernel = {
        config: { ...loadConfig(process.env), logLevel: 'silent' },
        bus,
        clock,
        log: silentLogger(),
        ids: createIds('replay'),
        instance: 'replay',
      };
      // the feed agents of the assembly, the capture as their feeds; deep books so --books-out holds every level
      const { agents, feeds } = await assemble(kernel, {
        feeds: 'capture',
        capture: hub,
        agents: 'feeds',
        depth: 100_000,
      });
      const running = await startAgents(kernel, agents, { heartbeatMs: 3_600_000 });
      const started = Date.now();
      let lastPrint = started;
      const played = await hub.play({
        bus,
        progressEvery: 50_000,
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastPrint < 1000) return;
          lastPrint = now;
          process.stderr.write(`replay: ${p.frames} frames at ${new Date(p.ts).toISOString()}\n`);
        },
      });
      const books = feeds.flatMap((f) => f.books());
      await running.stop();
      await bus.close();
      const elapsed = (Date.now() - started) / 1000;
      const events: Record<string, number> = { market: 0, book: 0, trade: 0, resolution: 0, tick: 0 };
      const rejected = { total: played.unrouted.total, reasons: {} as Record<string, number> };
      for (const [source, n] of Object.entries(played.unrouted.bySource))
        rejected.reasons[`${source}: no decoder for this source`] = n;
      for (const f of feeds) {
        const s = f.stats();
        for (const [k, v] of Object.entries(s.events)) events[k] = (events[k] ?? 0) + v;
        rejected.total += s.rejected.total;
        for (const [k, v] of Object.entries(s.rejected.reasons))
          rejected.reasons[k] = (rejected.reasons[k] ?? 0) + v;
      }
      const result = { ...played, events, rejected };
      if (o.booksOut) {
        // one instrument per line: diffable and still plain JSON
        const entries = Object.entries(booksJson(books)).map(
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

/**
 * `pm-arb backtest --capture FILE.jsonl [--seed N] [--json] [--store-dir DIR]`: the whole pipeline on a capture with
 * a simulated clock and the paper executor. `--json` prints one JSON object (deterministic apart from its `timing`
 * key); otherwise progress goes to stderr while it runs and a readable report to stdout. `--store-dir DIR` keeps
 * what the run did in a PGlite store of its own under DIR (never the live store), for
 * `DATA_DIR=DIR pm-arb trades|decisions|positions|pnl`.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { tuneV8ForThroughput } from '../../core/v8-tuning.ts';
import type { Db } from '../../store/db.ts';
import { requireCapture, requireNewStoreDir } from '../files.ts';
import { UsageError } from '../main.ts';

export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description(
      'run the whole pipeline on a capture (simulated clock, paper executor) and report P&L per strategy',
    )
    .requiredOption('--capture <file>', 'capture file (.jsonl), recorded or from `pm-arb simulate`')
    .option(
      '--seed <n>',
      'label of the run: its ids are bt<n>-… and the report names it; results do not depend on it (the capture holds the whole market, and nothing in a backtest is random)',
      '1',
    )
    .option('--json', 'print the report as one JSON object')
    .option(
      '--store-dir <dir>',
      'keep the fills, decisions, positions and equity in a new PGlite store under DIR (not the live one); read them with DATA_DIR=DIR pm-arb trades|decisions|positions|pnl',
    )
    .action(async (o: { capture: string; seed: string; json?: boolean; storeDir?: string }) => {
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0)
        throw new UsageError(`--seed must be a whole number ≥ 0, got "${o.seed}"`);
      requireCapture(o.capture, '--capture');
      const dir = o.storeDir === undefined ? undefined : requireNewStoreDir(o.storeDir, '--store-dir');
      // the first line at once; the pipeline (the whole assembly, zod schemas) loads after it
      if (!o.json)
        process.stderr.write(`backtest: ${o.capture} (${(statSync(o.capture).size / 1e6).toFixed(1)} MB)\n`);
      // a few seconds of one hot pipeline: less optimizing-compiler work (core/v8-tuning.ts)
      tuneV8ForThroughput();
      const [{ formatBacktestReport, runBacktest }, { loadConfig }] = await Promise.all([
        import('../../app/backtest.ts'),
        import('../../core/config.ts'),
      ]);
      const config = { ...loadConfig(process.env), logLevel: 'silent' as const };
      let store: Db | undefined;
      if (dir !== undefined) {
        const [{ openDb }, { migrate }] = await Promise.all([
          import('../../store/db.ts'),
          import('../../store/migrations.ts'),
        ]);
        store = await openDb({ dataDir: join(dir, 'pglite') });
        await migrate(store);
      }
      let lastPrint = 0;
      const tty = process.stderr.isTTY === true;
      const report = await runBacktest({
        capturePath: o.capture,
        seed,
        config,
        ...(store ? { store } : {}),
        onProgress: o.json
          ? undefined
          : (p) => {
              const t = performance.now();
              if (t - lastPrint < 500 && p.fraction < 1) return;
              lastPrint = t;
              const line =
                `backtest: ${p.events.toLocaleString('en-US')} events, ${Math.round(p.eventsPerSec).toLocaleString('en-US')} events/s, ` +
                `${(p.fraction * 100).toFixed(0)}% done, ~${p.etaSec.toFixed(0)} s left`;
              process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
            },
      });
      await store?.close();
      if (!o.json && tty) process.stderr.write('\n');
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatBacktestReport(report));
    });
}

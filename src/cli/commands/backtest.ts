/**
 * `pm-arb backtest --capture FILE.jsonl [--seed N] [--json]`: the whole pipeline on a capture with a simulated
 * clock and the paper executor. `--json` prints one JSON object (deterministic apart from its `timing` key);
 * otherwise progress goes to stderr while it runs and a readable report to stdout.
 */
import type { Command } from 'commander';
import { formatBacktestReport, runBacktest } from '../../app/backtest.ts';
import { loadConfig } from '../../core/config.ts';
import { requireCapture } from '../files.ts';
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
    .action(async (o: { capture: string; seed: string; json?: boolean }) => {
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0)
        throw new UsageError(`--seed must be a whole number ≥ 0, got "${o.seed}"`);
      requireCapture(o.capture, '--capture');
      const config = { ...loadConfig(process.env), logLevel: 'silent' as const };
      let lastPrint = 0;
      const tty = process.stderr.isTTY === true;
      const report = await runBacktest({
        capturePath: o.capture,
        seed,
        config,
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
      if (!o.json && tty) process.stderr.write('\n');
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatBacktestReport(report));
    });
}

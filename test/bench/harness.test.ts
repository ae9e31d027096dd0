/**
 * The bench harness (bench/harness.ts): what each figure's note and line say about the machine, the per-CPU
 * rate of throughput figures, the quick-mode verdicts, the bench filter and how a filtered run merges into
 * bench/results.json. No timings are asserted.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  type BenchRun,
  childCpuNow,
  createRecorder,
  mergeResults,
  type Results,
  selectBenches,
} from '../../bench/harness.ts';

function recorder(loads: number[], quick = false) {
  const lines: string[] = [];
  let i = 0;
  // each sample takes the next load average (the last one repeats)
  const loadavg = () => {
    const l = loads[Math.min(i++, loads.length - 1)]!;
    return [l, l / 2, l / 3];
  };
  const rec = createRecorder({ quick, cpus: 2, loadavg, write: (t) => lines.push(t) });
  return { rec, lines };
}

describe('bench harness', () => {
  it("each figure's note gives the load average seen while it was measured, from the previous figure on", () => {
    const { rec } = recorder([9, 0.5, 1.25, 0.75, 0.4]); // 9: before the bench starts, not in any window
    rec.begin(); // 0.5
    rec.sample(); // 1.25
    rec.ctx.record('pipeline.tick_to_decision_p99_us', 40, 'p99 of 1000 ticks'); // samples 0.75
    expect(rec.notes['pipeline.tick_to_decision_p99_us']).toMatch(
      /^p99 of 1000 ticks; load avg 0\.50–1\.25 \(1-min/,
    );
    rec.ctx.record('bus.inproc.latency_p99_us', 3, 'p99'); // window opened by the last record: 0.4, 0.4
    expect(rec.notes['bus.inproc.latency_p99_us']).toContain('load avg 0.40 (1-min');
    expect(rec.busy.size).toBe(0);
  });

  it('a figure measured while the load exceeded the cores says BUSY on its line and in its note', () => {
    const { rec, lines } = recorder([1, 3.5, 1]);
    rec.sample();
    rec.ctx.record('bus.inproc.latency_p99_us', 3, 'p99');
    expect(lines[0]).toMatch(/^bus\.inproc\.latency_p99_us .* BUSY \(load 3\.5\)\n/);
    expect(rec.notes['bus.inproc.latency_p99_us']).toContain('BUSY machine');
    expect([...rec.busy]).toEqual(['bus.inproc.latency_p99_us']);
    rec.ctx.record('cli.startup_ms', 150, 'median of 3'); // load 1 from here on
    expect(lines[1]).not.toContain('BUSY');
  });

  it('a throughput figure gives its rate per CPU-second, or its line says it does not', () => {
    const { rec, lines } = recorder([0.2]);
    rec.ctx.record('store.pg.rows_s', 40_000, 'batches of 2000', { perCpuS: 123_456.7 });
    expect(rec.notes['store.pg.rows_s']).toMatch(
      /^batches of 2000; per CPU-second of the process: 123,457 rows\/s;/,
    );
    rec.ctx.record('bus.redis.baseline_xadd_s', 300_000, 'redis-benchmark', {
      perCpuS: 500_000,
      cpuOf: 'redis-benchmark',
    });
    expect(rec.notes['bus.redis.baseline_xadd_s']).toContain(
      'per CPU-second of redis-benchmark: 500,000 ops/s',
    );
    // said in the bench's own words: accepted as it is
    rec.ctx.record('replay.frames_s', 1, 'wall clock (per CPU-second of the process: 2/s)');
    expect(rec.notes['replay.frames_s']).not.toContain('not measured');
    rec.ctx.record('backtest.events_s', 1, 'wall clock');
    expect(rec.notes['backtest.events_s']).toContain('per CPU-second: not measured');
    expect(lines.at(-1)).toMatch(/no per-CPU rate\n/);
    // not a rate: nothing to add
    rec.ctx.record('cli.startup_ms', 150, 'median of 3');
    expect(rec.notes['cli.startup_ms']).not.toContain('CPU');
    expect(lines.at(-1)).not.toContain('no per-CPU rate');
  });

  it('a quick run gives no verdict on a figure whose size it shrinks, and its notes say it was quick', () => {
    const { rec, lines } = recorder([0.2], true);
    rec.ctx.record('matcher.candidates_ms_100k', 500, '10,000 markets per venue');
    rec.ctx.record('cli.startup_ms', 150, 'median of 3');
    expect(lines[0]).toContain('quick-size');
    expect(lines[1]).toMatch(/ met\n/);
    expect(rec.notes['cli.startup_ms']).toContain('BENCH_QUICK');
    expect(recorder([0.2]).rec.ctx.quick).toBe(false);
  });

  it('the filter: a whole name is that bench only, a part of one is every bench containing it', () => {
    const all = ['bus', 'parse-kalshi', 'parse-polymarket', 'pipeline', 'pipeline-redis', 'replay'];
    expect(selectBenches(all, [])).toEqual({ benches: all, unknown: [] });
    expect(selectBenches(all, ['replay', 'pipeline']).benches).toEqual(['pipeline', 'replay']);
    expect(selectBenches(all, ['parse']).benches).toEqual(['parse-kalshi', 'parse-polymarket']);
    expect(selectBenches(all, ['redis', 'nope'])).toEqual({ benches: ['pipeline-redis'], unknown: ['nope'] });
  });

  it('a filtered run replaces the figures of the benches it ran and keeps the others', () => {
    const run = (figures: string[]): BenchRun => ({
      at: 'T',
      quick: false,
      wall_s: 1,
      cpu_s: 1,
      child_cpu_s: 0,
      figures,
    });
    const prev: Results = {
      at: 'yesterday',
      machine: { cpus: 2, model: 'x', node: 'v20' },
      metrics: { 'replay.frames_s': 1, 'replay.frames_s_parsed': 2, 'scanner.ns_per_update_1k': 3 },
      notes: {
        'replay.frames_s': 'old',
        'replay.frames_s_parsed': 'old',
        'scanner.ns_per_update_1k': 'kept',
      },
      runs: {
        replay: run(['replay.frames_s', 'replay.frames_s_parsed']),
        scanner: run(['scanner.ns_per_update_1k']),
      },
    };
    // replay ran again and produced only one of its two figures (say the other failed): the stale one goes
    const next: Results = {
      at: 'today',
      machine: prev.machine,
      metrics: { 'replay.frames_s': 10 },
      notes: { 'replay.frames_s': 'new' },
      runs: { replay: run(['replay.frames_s']) },
    };
    const merged = mergeResults(prev, next);
    expect(merged.at).toBe('today');
    expect(merged.metrics).toEqual({ 'replay.frames_s': 10, 'scanner.ns_per_update_1k': 3 });
    expect(merged.notes).toEqual({ 'replay.frames_s': 'new', 'scanner.ns_per_update_1k': 'kept' });
    expect(Object.keys(merged.runs).sort()).toEqual(['replay', 'scanner']);
    expect(mergeResults(undefined, next)).toBe(next);
  });

  it("counts the CPU of this process's exited children", () => {
    const before = childCpuNow();
    spawnSync(process.execPath, ['-e', 'let x = 0; for (let i = 0; i < 3e7; i++) x += i; console.log(x)']);
    expect(childCpuNow()).toBeGreaterThan(before);
  });
});

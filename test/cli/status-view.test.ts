import { describe, expect, it } from 'vitest';
import { allocationStatus, detailsWithUnits, isLive, summarise } from '../../src/cli/commands/status.ts';
import type { Heartbeat } from '../../src/core/messages.ts';

const beat = (agent: string, instance: string, state: Heartbeat['state'], ts: number): Heartbeat => ({
  type: 'heartbeat',
  agent,
  instance,
  state,
  pid: 1,
  host: 'h',
  ts,
  details: { equity: 522_562_290, processed: 3 },
});

describe('status view', () => {
  it('shows live agents only: a stopped instance or a stale heartbeat is left for --all', () => {
    const rows = summarise(
      [
        beat('executor', 'a', 'running', 100_000),
        beat('executor', 'old', 'stopped', 99_000),
        beat('executor', 'gone', 'running', 10_000),
      ],
      100_500,
      15_000,
    );
    expect(rows.filter(isLive).map((r) => r.instance)).toEqual(['a']);
    expect(rows).toHaveLength(3);
  });

  it('money in heartbeat details becomes an exact decimal string named in dollars', () => {
    expect(detailsWithUnits({ equity: 522_562_290, processed: 3 })).toEqual({
      equity_usd: '522.56229',
      processed: 3,
    });
  });

  it('explains each allocation: inputs, score and reason, money as exact dollar strings', () => {
    const st = allocationStatus(
      {
        type: 'allocation',
        ts: 1_000,
        allocations: { 'oracle-sniper': 177_880_000, 'new-strategy': 25_000_000 },
        scores: { 'oracle-sniper': 0.23 },
        explanations: {
          'oracle-sniper': {
            pnl: 678_510_000,
            windowPnl: -12_345,
            bundles: 12,
            windowClosed: 12,
            sharpe: 0.23,
            drawdown: 40_000_000,
            probation: false,
            evidence: 1,
            score: 0.23,
            weight: 0.059,
            target: 55_780_000,
            allocation: 177_880_000,
            reason: 'score 0.23 = Sharpe 0.23 over 12 bundles closed in 60 min × evidence 1.00',
          },
        },
      },
      3_000,
    );
    expect(st).toEqual({
      ts: 1_000,
      ageMs: 2_000,
      strategies: [
        // a strategy no round has scored yet: its amount, no reason invented
        { strategy: 'new-strategy', allocation: '25' },
        {
          strategy: 'oracle-sniper',
          allocation: '177.88',
          pnl: '678.51',
          windowPnl: '-0.012345',
          bundles: 12,
          windowClosed: 12,
          sharpe: 0.23,
          drawdown: '40',
          probation: false,
          evidence: 1,
          score: 0.23,
          weight: 0.059,
          target: '55.78',
          reason: 'score 0.23 = Sharpe 0.23 over 12 bundles closed in 60 min × evidence 1.00',
        },
      ],
    });
    expect(allocationStatus(undefined, 0)).toBeNull();
  });
});

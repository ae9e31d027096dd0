import { describe, expect, it } from 'vitest';
import { detailsWithUnits, isLive, summarise } from '../../src/cli/commands/status.ts';
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
});

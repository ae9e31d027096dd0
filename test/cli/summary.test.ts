import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLiveCounters } from '../../src/app/backtest.ts';
import {
  clip,
  createRateMeter,
  createSummaryFeed,
  createSummaryScreen,
  pack,
  renderSummary,
  renderSummaryLine,
  type SummaryInput,
} from '../../src/cli/summary.ts';
import { InProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import type { RiskDecision } from '../../src/core/messages.ts';
import { $, fill, sh } from '../risk/fixtures.ts';

const STRATEGIES = ['oracle-sniper', 'cross-venue-arb', 'rebalancing-arb', 'combinatorial-arb'];

function decision(over: Partial<RiskDecision>): RiskDecision {
  return {
    type: 'risk_decision',
    id: 'd-1',
    requestId: 'r-1',
    strategy: 'cross-venue-arb',
    verdict: 'reject',
    rule: 'allocation_cap',
    reason: 'strategy cross-venue-arb: $24.00 used + $3.00 asked exceeds its $25.00 allocation',
    legs: [],
    tif: 'FOK',
    decidedAt: Date.UTC(2026, 0, 1, 12, 0, 5),
    ...over,
  };
}

/** A busy pipeline: long token ids, every opportunity kind, many rules. */
async function busy() {
  const bus = new InProcBus({ name: 'summary' });
  const live = createLiveCounters(bus, { initialCash: $(500) });
  const feed = createSummaryFeed(bus, { group: 'summary-test' });
  for (const kind of ['oracle_lag', 'cross_venue', 'rebalancing', 'combinatorial']) {
    for (let i = 0; i < 1234; i++) live.counters.opportunitiesByKind[kind] = i + 1;
  }
  live.counters.opportunities = 4 * 1234;
  for (const [i, s] of STRATEGIES.entries()) {
    bus.publish(
      channels.fills,
      fill({
        side: 'buy',
        price: $(0.4),
        shares: sh(10 + i),
        fee: $(0.0123),
        strategy: s,
        tokenId: `7${'1234567890'.repeat(7)}`,
        ts: Date.UTC(2026, 0, 1, 12, 0, i),
      }),
    );
  }
  for (const rule of ['allocation_cap', 'stale_book', 'position_limit', 'daily_loss', 'drawdown']) {
    bus.publish(channels.riskDecisions, decision({ rule, id: `d-${rule}` }));
  }
  await bus.idle();
  const input: SummaryInput = {
    counters: live.counters,
    feed: feed.state,
    eventsPerSec: 12_345.6,
    clockMs: Date.UTC(2026, 0, 1, 12, 0, 42),
    upMs: 3_725_000,
    initialCash: $(500),
    strategies: STRATEGIES,
    mode: 'paper · sim seed 1',
  };
  const close = async (): Promise<void> => {
    await live.close();
    await feed.close();
    await bus.close();
  };
  return { bus, input, feed, close };
}

/** A stream that looks like a terminal of the given size and keeps what is written. */
function terminal(columns: number, rows: number, isTTY = true) {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(w, { isTTY, columns, rows });
  return { stream: w, out: () => chunks.join(''), chunks };
}

describe('terminal summary', () => {
  it('fits an 80-column terminal on a busy pipeline: no line reaches the last column', async () => {
    const b = await busy();
    const lines = renderSummary(b.input, 80);
    for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(79);
    expect(lines[0]).toContain('Ctrl-C to stop');
    expect(lines[0]).toContain('up 1:02:05');
    expect(lines.join('\n')).toContain('(12,346/s)');
    // every strategy on the P&L lines, every opportunity kind, the last trades and rejections with their reasons
    const all = lines.join('\n');
    for (const s of ['sniper', 'cross-venue', 'rebalancing', 'combinatorial']) expect(all).toMatch(`${s} `);
    for (const k of ['oracle_lag', 'cross_venue', 'rebalancing', 'combinatorial'])
      expect(all).toContain(`${k} 1,234`);
    expect(lines.filter((l) => /^ {2}12:00:0\d combinatorial buy 13 @ 0\.4/.test(l))).toHaveLength(1);
    expect(all).toContain('reject drawdown: strategy cross-venue-arb: $24.00 used');
    expect(all).toContain('fees $0.05');
    await b.close();
  });

  it('keeps only the last three trades and rejections, newest first', async () => {
    const b = await busy();
    expect(b.feed.state.fills.map((f) => f.strategy)).toEqual([
      'combinatorial-arb',
      'rebalancing-arb',
      'cross-venue-arb',
    ]);
    expect(b.feed.state.rejections.map((d) => d.rule)).toEqual(['drawdown', 'daily_loss', 'position_limit']);
    await b.close();
  });

  it('shows a halt and its reason instead of "trading: on", and clears it on resume', async () => {
    const b = await busy();
    const halt = {
      type: 'system' as const,
      command: 'HALT_ALL' as const,
      reason: 'news',
      issuedBy: 'alice',
      issuedAt: 1,
    };
    b.bus.publish(channels.system, halt);
    await b.bus.idle();
    expect(renderSummary(b.input, 80)[1]).toBe('HALTED by alice: news');
    expect(renderSummaryLine(b.input)).toContain(' HALTED ');
    b.bus.publish(channels.system, { ...halt, command: 'RESUME' });
    await b.bus.idle();
    expect(renderSummary(b.input, 80)[1]).toMatch(/^trading: on/);
    await b.close();
  });

  it('the closing summary drops the Ctrl-C hint', async () => {
    const b = await busy();
    expect(renderSummary({ ...b.input, final: true }, 80)[0]).not.toContain('Ctrl-C');
    await b.close();
  });

  it('rates are over the last interval, not since start', () => {
    const m = createRateMeter();
    expect(m.sample(0, 0)).toBeNull();
    expect(m.sample(10_000, 1_000)).toBe(10_000);
    // a slow second after a fast one reads slow (an average since start would say 5,500/s)
    expect(m.sample(11_000, 2_000)).toBe(1_000);
  });

  it('clip and pack never exceed the width', () => {
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('abc', 4)).toBe('abc');
    const lines = pack('agents:', ['alpha', 'beta', 'gamma', 'delta', 'epsilon'], 22, ', ');
    expect(lines).toEqual(['agents: alpha, beta,', '  gamma, delta,', '  epsilon']);
  });
});

describe('summary screen', () => {
  it('redraws in place on a terminal: up by the lines drawn, then clears below', () => {
    const t = terminal(80, 24);
    const s = createSummaryScreen({ stream: t.stream });
    expect(s.inPlace).toBe(true);
    s.draw(['a', 'b', 'c'], 'line');
    s.draw(['a', 'b', 'c', 'd'], 'line');
    s.draw(['x'], 'line');
    expect(t.chunks).toEqual(['\x1b[Ja\nb\nc\n', '\x1b[3F\x1b[Ja\nb\nc\nd\n', '\x1b[4F\x1b[Jx\n']);
  });

  it('a note goes above the summary: the summary is cleared, the note written, the next draw starts below', () => {
    const t = terminal(80, 24);
    const s = createSummaryScreen({ stream: t.stream });
    s.draw(['a', 'b'], 'line');
    s.note('hello');
    s.draw(['a', 'b'], 'line');
    expect(t.chunks).toEqual(['\x1b[Ja\nb\n', '\x1b[2F\x1b[J', 'hello\n', '\x1b[Ja\nb\n']);
  });

  it('never draws taller than the terminal, and cuts lines to its width', () => {
    const t = terminal(40, 5);
    const s = createSummaryScreen({ stream: t.stream });
    s.draw(['1', '2', '3', '4', '5', '6', 'x'.repeat(60)], 'line');
    expect(t.out()).toBe('\x1b[J1\n2\n3\n4\n');
  });

  it('a resize starts a fresh block (the old lines may have re-wrapped)', () => {
    const t = terminal(80, 24);
    const s = createSummaryScreen({ stream: t.stream });
    s.draw(['a', 'b'], 'line');
    t.stream.emit('resize');
    s.draw(['a', 'b'], 'line');
    expect(t.chunks[1]).toBe('\x1b[Ja\nb\n');
  });

  it('writes one plain line per draw when not a terminal or when narrow', () => {
    const pipe = terminal(80, 24, false);
    const p = createSummaryScreen({ stream: pipe.stream });
    p.draw(['a', 'b'], 'one line');
    expect(pipe.out()).toBe('one line\n');
    const narrow = terminal(30, 24);
    const n = createSummaryScreen({ stream: narrow.stream });
    expect(n.inPlace).toBe(false);
    n.draw(['a', 'b'], 'one line');
    expect(narrow.out()).toBe('one line\n');
  });
});

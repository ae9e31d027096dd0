import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/app/backtest.ts';
import { disconnectMarker } from '../../src/capture/markers.ts';
import { createCaptureWriter } from '../../src/capture/writer.ts';
import type { Agent } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { fixtureJson, fixtureJsonl } from '../helpers/fixtures.ts';

const PM_BOOK = fixtureJson<{ asset_id: string; market: string }>('polymarket/ws-book.json');
const KALSHI = fixtureJsonl<Record<string, unknown>>('kalshi/ws-session.jsonl');
const T0 = 1_777_903_200_000;
const dir = mkdtempSync(join(tmpdir(), 'pm-arb-bt-disconnect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Seen {
  venue: string;
  tokenId: string;
  stale: boolean;
  at: number;
}

/** An agent that writes down every book the feeds publish, with the clock time it saw it. */
function watchBooks(seen: Seen[]): Agent {
  return {
    name: 'book-watch',
    trading: false,
    async start(rt) {
      for (const v of ['polymarket', 'kalshi'] as const) {
        rt.subscribe(channels.books(v), (m) => {
          seen.push({ venue: v, tokenId: m.body.tokenId, stale: m.body.stale, at: rt.clock.now() });
        });
      }
    },
    async stop() {},
  };
}

async function writeCapture(name: string, frames: RawFrame[]): Promise<string> {
  const path = join(dir, name);
  const w = createCaptureWriter({ path, flushIntervalMs: 0 });
  for (const f of frames) w.write(f);
  await w.close();
  return path;
}

describe('backtest of a capture with a disconnect marker', () => {
  it("shows that venue's books stale from the marker until its next snapshot; the other venue stays fresh", async () => {
    const [subscribed, snapshot] = KALSHI;
    const capture = await writeCapture('disconnect.jsonl', [
      { ts: T0, source: 'kalshi.ws', data: subscribed },
      { ts: T0 + 10, source: 'kalshi.ws', data: snapshot },
      { ts: T0 + 20, source: 'polymarket.ws.market', data: PM_BOOK },
      disconnectMarker('kalshi.ws', T0 + 1_000),
      { ts: T0 + 2_000, source: 'kalshi.ws', data: { type: 'connection', state: 'up' } },
      {
        ts: T0 + 2_500,
        source: 'kalshi.ws',
        data: { ...subscribed, msg: { channel: 'orderbook_delta', sid: 2 } },
      },
      { ts: T0 + 3_000, source: 'kalshi.ws', data: { ...snapshot, sid: 2, seq: 1 } },
      { ts: T0 + 3_500, source: 'polymarket.ws.market', data: PM_BOOK },
    ]);
    const seen: Seen[] = [];
    const report = await runBacktest({
      capturePath: capture,
      config: { ...loadConfig({}), logLevel: 'silent' },
      agents: () => [watchBooks(seen)],
    });
    expect(report.events.frames).toBe(8);
    expect(report.events.rejected).toBe(0);
    // what happened while the capture played (the feeds mark everything stale again when they stop at the end)
    const during = seen.filter((s) => s.at <= T0 + 3_500);
    const kalshi = during.filter((s) => s.venue === 'kalshi');
    const tokens = [...new Set(kalshi.map((s) => s.tokenId))];
    expect(tokens.length).toBe(2); // the market's yes and no books
    for (const t of tokens) {
      const states = kalshi.filter((s) => s.tokenId === t).map((s) => [s.at - T0, s.stale]);
      expect(states).toEqual([
        [10, false], // the first snapshot
        [1_000, true], // the disconnect marker
        [3_000, false], // the next snapshot
      ]);
    }
    const pm = during.filter((s) => s.venue === 'polymarket');
    expect(pm.length).toBeGreaterThan(0);
    expect(pm.every((s) => !s.stale)).toBe(true);
  });

  it('plays an old capture (no markers) as before: books fresh while the feed is up', async () => {
    const [subscribed, snapshot] = KALSHI;
    const capture = await writeCapture('old.jsonl', [
      { ts: T0, source: 'kalshi.ws', data: subscribed },
      { ts: T0 + 10, source: 'kalshi.ws', data: snapshot },
      { ts: T0 + 1_000, source: 'kalshi.ws', data: { ...KALSHI[2] } },
    ]);
    const seen: Seen[] = [];
    await runBacktest({
      capturePath: capture,
      config: { ...loadConfig({}), logLevel: 'silent' },
      agents: () => [watchBooks(seen)],
    });
    const during = seen.filter((s) => s.at <= T0 + 1_000);
    expect(during.length).toBeGreaterThan(2);
    expect(during.every((s) => !s.stale)).toBe(true);
  });
});

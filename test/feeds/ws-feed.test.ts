import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CloseCause, WsFeed, type WsFeedOptions } from '../../src/feeds/ws-feed.ts';
import { startWsFake, type WsFake, waitFor } from '../fakes/ws-fake.ts';

let fake: WsFake;
let feed: WsFeed | undefined;
let t = 1_000;
const now = () => ++t;

beforeEach(async () => {
  fake = await startWsFake();
});
afterEach(async () => {
  await feed?.stop();
  feed = undefined;
  await fake.close();
});

function make(extra: Partial<WsFeedOptions> = {}) {
  const frames: Array<{ text: string; ts: number }> = [];
  const closes: CloseCause[] = [];
  feed = new WsFeed({
    name: 'test',
    url: fake.url,
    now,
    backoff: { baseMs: 5, maxMs: 20 },
    subscribe: () => [{ type: 'market', assets_ids: ['1'] }],
    onClose: (i) => closes.push(i.cause),
    ...extra,
  });
  feed.start((text, ts) => frames.push({ text, ts }));
  return { feed, frames, closes };
}

describe('WsFeed', () => {
  it('subscribes on open and delivers text frames stamped with the injected clock', async () => {
    const { feed: f, frames } = make();
    const conn = await fake.waitForConnection(1);
    await waitFor(() => conn.received.length >= 1);
    expect(JSON.parse(conn.received[0]!)).toEqual({ type: 'market', assets_ids: ['1'] });
    conn.send({ hello: 1 });
    conn.send('[1,2]');
    await waitFor(() => frames.length >= 2);
    expect(frames.map((x) => x.text)).toEqual(['{"hello":1}', '[1,2]']);
    expect(frames[1]!.ts).toBeGreaterThan(frames[0]!.ts);
    const h = f.health();
    expect(h.connected).toBe(true);
    expect(h.framesReceived).toBe(2);
    expect(h.lastMessageAt).toBe(frames[1]!.ts);
  });

  it('reconnects after a dropped connection and subscribes again', async () => {
    const { feed: f, frames, closes } = make();
    const c1 = await fake.waitForConnection(1);
    await waitFor(() => c1.received.length >= 1);
    c1.drop();
    const c2 = await fake.waitForConnection(2);
    await waitFor(() => c2.received.length >= 1);
    expect(c2.received[0]).toBe(c1.received[0]);
    c2.send('after');
    await waitFor(() => frames.some((x) => x.text === 'after'));
    expect(f.health().reconnects).toBe(1);
    expect(closes).toEqual(['error']);
  });

  it('keeps retrying while the server refuses, then connects', async () => {
    fake.setRefusing(true);
    const { feed: f } = make();
    await waitFor(() => f.health().lastError !== null);
    expect(f.health().connected).toBe(false);
    fake.setRefusing(false);
    await fake.waitForConnection(1);
    await waitFor(() => f.health().connected);
  });

  it('sends the text heartbeat and swallows the PONG reply', async () => {
    const { feed: f, frames } = make({
      heartbeat: { kind: 'text', intervalMs: 20, message: 'PING', reply: 'PONG' },
    });
    const conn = await fake.waitForConnection(1);
    await waitFor(() => conn.received.filter((m) => m === 'PING').length >= 2);
    await waitFor(() => f.health().lastMessageAt !== null);
    expect(frames.some((x) => x.text === 'PONG')).toBe(false);
  });

  it('sends protocol pings when asked', async () => {
    make({ heartbeat: { kind: 'ping', intervalMs: 20 } });
    const conn = await fake.waitForConnection(1);
    let pings = 0;
    conn.socket.on('ping', () => pings++);
    await waitFor(() => pings >= 2);
  });

  it('reconnects when the feed goes silent (watchdog)', async () => {
    const { feed: f, closes } = make({ silenceMs: 80 });
    const c1 = await fake.waitForConnection(1);
    fake.setSilent(true);
    await fake.waitForConnection(2);
    expect(c1.open).toBe(false);
    expect(closes[0]).toBe('silence');
    expect(f.health().silenceReconnects).toBeGreaterThanOrEqual(1);
    fake.setSilent(false);
  });

  it('a flowing heartbeat reply keeps the watchdog quiet', async () => {
    // the PONGs keep a 600 ms watchdog quiet over ~1.5 s (a window well above the PING period, for loaded CI)
    const { feed: f } = make({
      silenceMs: 600,
      heartbeat: { kind: 'text', intervalMs: 20, message: 'PING', reply: 'PONG' },
    });
    const c1 = await fake.waitForConnection(1);
    await waitFor(() => c1.received.filter((m) => m === 'PING').length >= 75, 10_000);
    expect(fake.connections.length).toBe(1);
    expect(f.health().silenceReconnects).toBe(0);
  });

  it('reconnects on schedule before the maximum connection age', async () => {
    const { feed: f, closes } = make({ maxConnectionAgeMs: 60 });
    await fake.waitForConnection(3);
    expect(closes.slice(0, 2)).toEqual(['max-age', 'max-age']);
    expect(f.health().ageReconnects).toBeGreaterThanOrEqual(2);
  });

  it('stop() closes without reconnecting, and counts rejected frames', async () => {
    const { feed: f } = make();
    await fake.waitForConnection(1);
    await waitFor(() => f.isOpen);
    f.rejectFrame();
    expect(f.health().framesRejected).toBe(1);
    expect(f.send('hi')).toBe(true);
    await f.stop();
    expect(f.health().connected).toBe(false);
    expect(f.send('hi')).toBe(false);
    await waitFor(() => fake.openConnections().length === 0);
    expect(fake.connections.length).toBe(1);
  });
});

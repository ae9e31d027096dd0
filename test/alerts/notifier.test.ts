/**
 * The notifier against fake Pushover and webhook servers: what each channel sends, retries on 5xx and dropped
 * connections, no retry on a rejected token, a timeout per attempt, and a bounded queue where halts go first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertCandidate } from '../../src/alerts/engine.ts';
import {
  createNotifier,
  type DeliveryReport,
  pushoverChannel,
  webhookChannel,
} from '../../src/alerts/notifier.ts';
import { type FakePushover, startFakePushover, startFakeWebhook } from '../fakes/pushover-server.ts';

const TOKEN = 't'.repeat(30);
const USER = 'u'.repeat(30);

const alert = (n: number, over: Partial<AlertCandidate> = {}): AlertCandidate => ({
  id: `a${n}`,
  kind: 'large_fill',
  key: `k${n}`,
  level: 'warning',
  title: `title ${n}`,
  body: `body ${n}`,
  priority: 0,
  ts: 1_795_000_000_000,
  ...over,
});

describe('notifier', () => {
  let pushover: FakePushover;
  let hook: Awaited<ReturnType<typeof startFakeWebhook>>;
  beforeAll(async () => {
    pushover = await startFakePushover({ token: TOKEN, user: USER });
    hook = await startFakeWebhook();
  });
  afterAll(async () => {
    await pushover.close();
    await hook.close();
  });

  function make(extra: Partial<Parameters<typeof createNotifier>[0]> = {}) {
    const reports: [string, DeliveryReport][] = [];
    const n = createNotifier({
      channels: [
        pushoverChannel({ token: TOKEN, user: USER, apiUrl: pushover.url }),
        webhookChannel(hook.url),
      ],
      onDone: (a, r) => reports.push([a.id, r]),
      backoffMs: 10,
      timeoutMs: 500,
      ...extra,
    });
    return { n, reports };
  }

  it('sends to both channels: Pushover form fields (emergency with retry/expire), webhook text/content/alert', async () => {
    const { n, reports } = make();
    const before = pushover.messages.length;
    n.enqueue(
      alert(1, { priority: 2, emergency: { retryS: 45, expireS: 900 }, kind: 'halt', level: 'critical' }),
    );
    await n.idle();
    expect(reports[0]![1].status).toBe('sent');
    expect(reports[0]![1].results.map((r) => [r.channel, r.ok, r.attempts])).toEqual([
      ['pushover', true, 1],
      ['webhook', true, 1],
    ]);
    expect(pushover.messages.slice(before)).toEqual([
      expect.objectContaining({ title: 'title 1', message: 'body 1', priority: 2, retry: 45, expire: 900 }),
    ]);
    const body = hook.bodies.at(-1)!.body as {
      text: string;
      content: string;
      username: string;
      alert: Record<string, unknown>;
    };
    expect(body.text).toContain('title 1\nbody 1');
    expect(body.content).toBe(body.text);
    expect(body.alert).toMatchObject({ id: 'a1', kind: 'halt', level: 'critical', priority: 2 });
    await n.close();
  });

  it('retries 5xx and dropped connections, then succeeds; gives up on a rejected token at once', async () => {
    const { n, reports } = make();
    pushover.http.script('POST', '/1/messages.json', [{ status: 500, body: {} }, { drop: true }]);
    n.enqueue(alert(2));
    await n.idle();
    expect(reports.at(-1)![1].results.find((r) => r.channel === 'pushover')).toMatchObject({
      ok: true,
      attempts: 3,
    });
    const bad = createNotifier({
      channels: [pushoverChannel({ token: 'wrong', user: USER, apiUrl: pushover.url })],
      onDone: (a, r) => reports.push([a.id, r]),
      backoffMs: 10,
    });
    bad.enqueue(alert(3));
    await bad.idle();
    const r = reports.at(-1)![1];
    expect(r.status).toBe('failed');
    expect(r.results[0]).toMatchObject({ ok: false, attempts: 1, status: 400 });
    expect(r.results[0]!.error).toContain('application token is invalid');
    await n.close();
    await bad.close();
  });

  it('a slow channel times out per attempt and the other still delivers (partial)', async () => {
    const { n, reports } = make({ retries: 1, timeoutMs: 200 });
    hook.http.script('POST', '/hook', [
      { delayMs: 2_000, raw: 'ok' },
      { delayMs: 2_000, raw: 'ok' },
    ]);
    n.enqueue(alert(4));
    await n.idle();
    const r = reports.at(-1)![1];
    expect(r.status).toBe('partial');
    expect(r.results.find((x) => x.channel === 'webhook')).toMatchObject({
      ok: false,
      attempts: 2,
      status: 0,
    });
    expect(r.results.find((x) => x.channel === 'webhook')!.error).toContain('timed out');
    await n.close();
  });

  it('bounded queue: drops the oldest ordinary alert when full, halts jump the queue; no channel → no_channels', async () => {
    const { n, reports } = make({ queueSize: 2 });
    hook.http.script('POST', '/hook', [{ delayMs: 150, raw: 'ok' }]);
    n.enqueue(alert(10)); // in flight
    n.enqueue(alert(11));
    n.enqueue(alert(12));
    n.enqueue(alert(13, { essential: true, kind: 'halt' })); // full: 11 is dropped, the halt goes first
    await n.idle();
    expect(reports.map(([id, r]) => `${id}:${r.status}`)).toEqual([
      'a11:dropped',
      'a10:sent',
      'a13:sent',
      'a12:sent',
    ]);
    n.enqueue(alert(14), []);
    expect(reports.at(-1)).toEqual(['a14', { status: 'no_channels', results: [] }]);
    await n.close();
    n.enqueue(alert(15));
    expect(reports.at(-1)![1].status).toBe('dropped');
  });
});

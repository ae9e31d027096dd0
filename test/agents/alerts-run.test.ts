/**
 * The alerts agent in a simulated run (`pm-arb run`'s agents on the simulated market, wall clock, in-process bus,
 * PGlite), with a fake Pushover and a fake webhook. The store remembers a high-water mark of $600 while the bankroll
 * is $500 (a restart after losses), so the guardian's first decision is a drawdown stop — the loss budgets keep a
 * live run from ever getting there on its own. The drawdown halt reaches both within 2 s of the first drawdown
 * rejection, a repeated halt (HALT_ALL on top of it, and the guardian's further rejections) sends no
 * second halt alert, and after RESUME the resume notice is the only thing sent. The alert log holds each alert
 * with its delivery result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAlertLog } from '../../src/alerts/log.ts';
import { assemble } from '../../src/app/assemble.ts';
import { type Kernel, startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { silentLogger } from '../../src/core/log.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { restoreStates } from '../../src/store/restore.ts';
import { writeSystemState } from '../../src/store/system-state.ts';
import { type FakePushover, startFakePushover, startFakeWebhook } from '../fakes/pushover-server.ts';

const TOKEN = 'a'.repeat(30);
const USER = 'u'.repeat(30);
const STRATEGIES = ['oracle-sniper', 'cross-venue-arb', 'rebalancing-arb', 'combinatorial-arb'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('alerts in a simulated run', () => {
  let pushover: FakePushover;
  let hook: Awaited<ReturnType<typeof startFakeWebhook>>;
  let kernel: Kernel;
  let db: Db;
  let stop: () => Promise<void>;
  const drawdownRejections: number[] = [];

  beforeAll(async () => {
    pushover = await startFakePushover({ token: TOKEN, user: USER });
    hook = await startFakeWebhook();
    const config = loadConfig({
      DRAWDOWN_LIMIT_PCT: '10',
      PUSHOVER_USER_KEY: USER,
      PUSHOVER_API_TOKEN: TOKEN,
      PUSHOVER_API_URL: pushover.url,
      ALERT_WEBHOOK_URL: hook.url,
      LOG_LEVEL: 'silent',
    });
    kernel = await createKernel({ config, clock: wallClock(), log: silentLogger(), instance: 'alerts-run' });
    db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
    await writeSystemState(db, { highWaterMark: 600_000_000 });
    const restored = restoreStates(await loadRecoveryState(db), config, Date.now());
    kernel.bus.subscribe(channels.riskDecisions, { group: 'test-watch' }, (m) => {
      if (m.body.rule === 'drawdown_stop') drawdownRejections.push(Date.now());
    });
    const agents = (await assemble(kernel, { feeds: 'sim', seed: 3, store: db, restored })).agents;
    expect(agents.some((a) => a.name === 'alerts')).toBe(true);
    ({ stop } = await startAgents(kernel, agents, { heartbeatMs: 1_000 }));
  }, 60_000);

  afterAll(async () => {
    await stop?.();
    await kernel?.bus.close();
    await db?.close();
    await pushover?.close();
    await hook?.close();
  });

  const halts = () => pushover.messages.filter((m) => m.title.startsWith('Trading HALTED'));
  const hookHalts = () => hook.bodies.filter((b) => String(b.body.text).includes('Trading HALTED'));

  it('sends the drawdown halt within 2 s, once, then only the resume notice', async () => {
    await until('a drawdown rejection', () => drawdownRejections.length > 0, 90_000);
    await until(
      'the halt alert on Pushover and the webhook',
      () => halts().length > 0 && hookHalts().length > 0,
      5_000,
    );
    const first = drawdownRejections[0]!;
    const halt = halts()[0]!;
    expect(halt.title).toBe('Trading HALTED: drawdown stop');
    expect(halt.priority).toBe(2);
    expect(halt.retry).toBeGreaterThanOrEqual(30);
    expect(halt.expire).toBeLessThanOrEqual(10_800);
    process.stderr.write(
      `alerts: halt on Pushover ${halt.at - first} ms, on the webhook ${hookHalts()[0]!.at - first} ms after the first drawdown rejection\n`,
    );
    expect(halt.at - first).toBeLessThan(2_000);
    expect(hookHalts()[0]!.at - first).toBeLessThan(2_000);
    const hookBody = hookHalts()[0]!.body as { text: string; content: string; alert: { kind: string } };
    expect(hookBody.content).toBe(hookBody.text);
    expect(hookBody.alert.kind).toBe('halt');

    // the same halt again: a manual HALT_ALL on top, and the guardian keeps rejecting
    kernel.bus.publish(channels.system, {
      type: 'system',
      command: 'HALT_ALL',
      reason: 'operator halt while already stopped',
      issuedBy: 'test',
      issuedAt: Date.now(),
    });
    const rejectionsBefore = drawdownRejections.length;
    await sleep(1_500);
    expect(halts()).toHaveLength(1);
    expect(hookHalts()).toHaveLength(1);

    // strategies off so nothing new trades after the resume, then RESUME
    for (const strategy of STRATEGIES)
      kernel.bus.publish(channels.strategyControl, {
        type: 'strategy_control',
        strategy,
        enabled: false,
        issuedAt: Date.now(),
      });
    await kernel.bus.idle();
    await sleep(500);
    const sentBeforeResume = pushover.messages.length;
    const hookBeforeResume = hook.bodies.length;
    kernel.bus.publish(channels.system, {
      type: 'system',
      command: 'RESUME',
      reason: 'drawdown reviewed',
      issuedBy: 'test',
      issuedAt: Date.now(),
    });
    await until(
      'the resume notice',
      () => pushover.messages.some((m) => m.title === 'Trading resumed'),
      5_000,
    );
    await sleep(3_000);
    const after = pushover.messages.slice(sentBeforeResume);
    expect(after.map((m) => m.title)).toEqual(['Trading resumed']);
    expect(after[0]!.priority).toBe(0);
    expect(hook.bodies.slice(hookBeforeResume).map((b) => (b.body.alert as { kind: string }).kind)).toEqual([
      'resume',
    ]);
    expect(halts()).toHaveLength(1);
    expect(drawdownRejections.length).toBeGreaterThanOrEqual(rejectionsBefore);

    // the alert log: both, with the delivery result of each channel
    let log = await readAlertLog(db, { kinds: ['halt', 'resume'] });
    for (let i = 0; i < 50 && log.length < 2; i++) {
      await sleep(100);
      log = await readAlertLog(db, { kinds: ['halt', 'resume'] });
    }
    expect(log.map((r) => [r.kind, r.status])).toEqual([
      ['resume', 'sent'],
      ['halt', 'sent'],
    ]);
    const delivery = log[1]!.delivery as { channel: string; ok: boolean; status: number }[];
    expect(delivery.map((d) => [d.channel, d.ok, d.status]).sort()).toEqual([
      ['pushover', true, 200],
      ['webhook', true, 200],
    ]);
  }, 150_000);
});

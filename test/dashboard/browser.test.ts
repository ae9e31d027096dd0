/**
 * End to end in headless Chromium (Debian's /usr/bin/chromium through playwright-core): the whole simulated
 * system runs in this process — every agent of `pm-arb run` on the simulated feeds, a clock running ten times
 * faster than the wall, the in-process bus, an embedded store — with the dashboard served on 127.0.0.1:0.
 *
 * Each page is loaded and shows data; the equity chart draws and grows by itself (live updates); with the control
 * token, "Halt" stops new orders (checked on the bus), "Resume" brings them back, and approving a pair of the
 * review queue links it (on the bus, in the store, on the page). Screenshots of every page go to
 * test-artifacts/dashboard/ (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/app/assemble.ts';
import { createIds, type Kernel, startAgents } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import type { MarketLink, Order, StrategyControl, SystemCommand } from '../../src/core/messages.ts';
import { type StartedDashboard, startDashboard } from '../../src/dashboard/server.ts';
import {
  createJsonMatchStore,
  type MatchStore,
  matchFilePath,
  pairKey,
  verdictKey,
} from '../../src/matcher/store.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { readSystemState } from '../../src/store/system-state.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts', 'dashboard');
const START = Date.UTC(2026, 10, 26, 14, 0, 0);
const PAGES = [
  'portfolio',
  'positions',
  'opportunities',
  'strategies',
  'risk',
  'matches',
  'agents',
  'alerts',
] as const;
const pathOf = (p: (typeof PAGES)[number]): string => (p === 'portfolio' ? '/' : `/${p}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'pmarb-dash-e2e-'));
let kernel: Kernel;
let clock: SimClock;
let db: Db;
let matchStore: MatchStore;
let dashboard: StartedDashboard;
let stopAgents: (() => Promise<void>) | undefined;
let browser: BrowserContext;
let page: Page;
let driving = true;
let driver: Promise<void> | undefined;
/** Every order placed (the executor publishes each order as it changes; the first sight counts). */
const orders: Order[] = [];
const orderIds = new Set<string>();
const commands: SystemCommand[] = [];
const links: MarketLink[] = [];
const controls: StrategyControl[] = [];
/** Uncaught errors in the pages' scripts (none expected). */
const pageErrors: string[] = [];

/** Waits (real time) until `cond` holds, saying what it waited for when it does not. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function open(p: (typeof PAGES)[number]): Promise<void> {
  await page.goto(`${dashboard.url}${pathOf(p)}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
}

/** The text a person sees in an element (Playwright's rendered innerText, not the DOM property). */
const textOf = (selector: string): Promise<string> =>
  // biome-ignore lint/performance/useDomNodeTextContent: Locator.innerText is the rendered text, as a reader sees it
  page.locator(selector).innerText();

/** Rows of a table that hold data (not the "nothing yet" row). */
const rows = (table: string): Promise<number> => page.locator(`#${table} tbody tr:not(.empty)`).count();

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const config = loadConfig({ DATA_DIR: join(dir, 'data'), INITIAL_BANKROLL: '100000', DASHBOARD_PORT: '0' });
  clock = new SimClock(START);
  kernel = {
    config,
    bus: createInProcBus({ name: 'e2e', clock }),
    clock,
    log: createLogger('silent'),
    ids: createIds('e2e'),
    instance: 'e2e-1',
  };
  db = await openDb({ dataDir: 'memory://' });
  await migrate(db);
  matchStore = createJsonMatchStore(matchFilePath(config.dataDir));
  kernel.bus.subscribe(channels.orders, { group: 'e2e-orders' }, (m) => {
    if (orderIds.has(m.body.id)) return;
    orderIds.add(m.body.id);
    orders.push(m.body);
  });
  kernel.bus.subscribe(channels.system, { group: 'e2e-system' }, (m) => {
    commands.push(m.body);
  });
  kernel.bus.subscribe(channels.links, { group: 'e2e-links' }, (m) => {
    links.push(m.body);
  });
  kernel.bus.subscribe(channels.strategyControl, { group: 'e2e-strategy' }, (m) => {
    controls.push(m.body);
  });
  const agents = (await assemble(kernel, { feeds: 'sim', seed: 1, store: db, matchStore })).agents;
  dashboard = await startDashboard({ ...kernel, db, matchStore, role: 'run', feeds: 'sim' });
  stopAgents = (await startAgents(kernel, agents)).stop;
  // the simulated market runs ten times faster than the wall clock
  driver = (async () => {
    while (driving) {
      clock.advanceTo(clock.now() + 100);
      await kernel.bus.idle();
      await sleep(10);
    }
  })();
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'pmarb-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (err) => {
    pageErrors.push(err.message);
  });
  // let the market trade for a few simulated minutes (allocator rounds, positions, performance)
  await until(
    'trading in the simulated market',
    () => orders.length >= 20 && clock.now() - START >= 120_000,
    120_000,
  );
}, 240_000);

afterAll(async () => {
  await browser?.close();
  driving = false;
  await driver;
  await dashboard?.stop();
  await stopAgents?.();
  await kernel?.bus.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard in Chromium on a running simulated system', () => {
  it('every page loads and shows live data; the equity chart draws and grows by itself', async () => {
    await open('portfolio');
    await until(
      'the equity chart to draw',
      async () => Number(await page.locator('#equity-chart').getAttribute('data-drawn')) > 10,
    );
    expect(await page.locator('#equity-chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#portfolio-cards .card').count()).toBe(5);
    expect(await textOf('#portfolio-cards')).toMatch(/EQUITY\s+\$\d{2,3},\d{3}\.\d{2}/i);
    expect(await textOf('#live-badge')).toBe('live');
    const drawn = Number(await page.locator('#equity-chart').getAttribute('data-drawn'));
    // no reload: the points arrive on the live stream
    await until(
      'the equity chart to grow live',
      async () => Number(await page.locator('#equity-chart').getAttribute('data-drawn')) > drawn + 2,
    );
    expect(await rows('venues')).toBe(2);
    await shot('portfolio');

    await open('positions');
    await until('open positions', async () => (await rows('open-positions')) > 0);
    await shot('positions');

    await open('opportunities');
    await until(
      'opportunities and fills',
      async () => (await rows('opportunities')) > 0 && (await rows('fills')) > 0,
    );
    // what became of them: the traded ones say so
    await page.selectOption('#opp-filters select[name="outcome"]', 'traded');
    await until('the traded filter', async () => {
      const outcomes = await page
        .locator('#opportunities tbody tr:not(.empty) td:nth-child(7)')
        .allInnerTexts();
      return outcomes.length > 0 && outcomes.every((o) => o.includes('traded'));
    });
    await page.selectOption('#opp-filters select[name="outcome"]', '');
    await page.selectOption('#opp-filters select[name="kind"]', 'oracle_lag');
    await until('the kind filter', async () => {
      const kinds = await page.locator('#opportunities tbody tr td:nth-child(2)').allInnerTexts();
      return kinds.length > 0 && kinds.every((k) => k === 'oracle_lag');
    });
    await shot('opportunities');

    await open('strategies');
    await until('the leaderboard', async () => (await rows('leaderboard')) >= 4);
    await shot('strategies');

    await open('risk');
    await until('the limits', async () => (await rows('limits')) === 6 && (await rows('by-rule')) > 0);
    await shot('risk');

    await open('matches');
    await until('linked pairs', async () => (await rows('links')) > 0);
    await shot('matches');

    await open('agents');
    await until('feeds and agents', async () => (await rows('feeds')) === 4 && (await rows('agents')) >= 11);
    expect(await textOf('#feeds')).toContain('connected');
    await shot('agents');

    await open('alerts');
    await until('alert settings', async () => (await rows('alert-settings')) > 0);
    await shot('alerts');
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('read-only without the token; halt with it stops new orders, resume brings them back, both recorded; a strategy is switched off', async () => {
    await open('risk');
    expect(await page.locator('#halt-button').isDisabled()).toBe(true);
    const token = readFileSync(join(dir, 'data', 'control-token'), 'utf8').trim();
    await page.click('#unlock');
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-ok');
    await page.waitForSelector('#token-error:has-text("refused")');
    await page.fill('#token-input', token);
    await page.click('#token-ok');
    await page.waitForSelector('body.unlocked');
    expect(await page.locator('#halt-button').isDisabled()).toBe(false);

    const ordersBefore = orders.length;
    expect(ordersBefore).toBeGreaterThan(0);
    await page.click('#halt-button');
    await page.fill('#confirm-actor', 'e2e operator');
    await page.fill('#confirm-reason', 'browser test: kill switch');
    await page.click('#confirm-ok');
    await page.waitForSelector('#halt-title:has-text("TRADING HALTED")', { timeout: 30_000 });
    const halt = commands.find((c) => c.command === 'HALT_ALL');
    expect(halt).toMatchObject({ reason: 'browser test: kill switch', issuedBy: 'dashboard:e2e operator' });
    expect(await readSystemState(db)).toMatchObject({
      halted: true,
      haltReason: 'browser test: kill switch',
    });
    // a minute of simulated trading time passes: nothing new is ordered (an order already in flight may finish)
    const haltAt = halt!.issuedAt;
    const seen = clock.now();
    await until('a simulated minute after the halt', () => clock.now() >= seen + 60_000, 60_000);
    expect(orders.filter((o) => o.createdAt > haltAt + 1_000)).toEqual([]);
    await page.waitForSelector('#actions:has-text("browser test: kill switch")');
    expect(await textOf('#actions')).toContain('e2e operator');
    await shot('risk-halted');

    await page.click('#resume-button');
    await page.fill('#confirm-reason', 'browser test: all clear');
    await page.click('#confirm-ok');
    await page.waitForSelector('#halt-title:text-is("Trading")', { timeout: 30_000 });
    const resume = commands.find((c) => c.command === 'RESUME');
    expect(resume).toMatchObject({ reason: 'browser test: all clear' });
    await until(
      'new orders after the resume',
      () => orders.some((o) => o.createdAt > resume!.issuedAt),
      90_000,
    );
    expect((await readSystemState(db)).halted).toBe(false);

    // a strategy switched off from its row: the runner reports it disabled in its next heartbeat
    await open('strategies');
    await page.click('#leaderboard button[data-strategy="rebalancing-arb"]');
    await page.fill('#confirm-reason', 'browser test: pause one strategy');
    await page.click('#confirm-ok');
    await until('rebalancing-arb disabled on the page', async () =>
      (await textOf('#leaderboard tbody tr:has-text("rebalancing-arb")')).includes('disabled'),
    );
    expect(controls).toEqual([expect.objectContaining({ strategy: 'rebalancing-arb', enabled: false })]);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('approving a pair of the review queue links it: on the bus, in the store, on the page', async () => {
    // a judged pair the rules did not link, as the LLM would leave it below the confidence a link needs
    const r = await db.query<{ venue: string; market_id: string; question: string }>(
      `SELECT venue, market_id, question FROM markets m WHERE status = 'open' AND NOT EXISTS (
         SELECT 1 FROM market_matches l WHERE (l.a_venue = m.venue AND l.a_market = m.market_id)
           OR (l.b_venue = m.venue AND l.b_market = m.market_id)) ORDER BY venue DESC, market_id`,
    );
    const a = r.rows.find((x) => x.venue === 'polymarket');
    const b = r.rows.find((x) => x.venue === 'kalshi');
    expect(a && b, 'two unlinked markets in the simulated listings').toBeTruthy();
    const ra = { venue: 'polymarket' as const, marketId: a!.market_id };
    const rb = { venue: 'kalshi' as const, marketId: b!.market_id };
    await matchStore.putVerdict({
      key: verdictKey(ra, 'v', rb, 'v'),
      a: ra,
      b: rb,
      aVersion: 'v',
      bVersion: 'v',
      relation: 'exclusive',
      confidence: 0.4,
      stage: 'llm',
      reasons: ['the two cannot both resolve YES'],
      decidedAt: clock.now(),
    });

    await matchStore.putReview({
      key: pairKey(ra, rb),
      a: { ...ra, version: 'v', question: a!.question, rules: '', endTime: null, outcomes: ['Yes', 'No'] },
      b: { ...rb, version: 'v', question: b!.question, rules: '', endTime: null, outcomes: ['Yes', 'No'] },
      relation: 'exclusive',
      confidence: 0.4,
      stage: 'llm',
      reasons: ['the two cannot both resolve YES'],
      queuedAt: clock.now(),
    });

    await open('matches');
    await page.waitForSelector(`#review tbody tr:has-text("${a!.question.slice(0, 30)}")`);
    await shot('matches-review');
    // the running matcher may queue pairs of its own: act on this pair's row
    const ourRow = `#review tbody tr:has-text("${a!.question.slice(0, 30)}")`;
    await page.click(`${ourRow} button[data-decision="approve"]`);
    await page.fill('#confirm-reason', 'browser test: checked both rules');
    await page.click('#confirm-ok');
    await until('the manual link on the bus', () =>
      links.some((l) => l.stage === 'manual' && l.a.marketId === ra.marketId && l.b.marketId === rb.marketId),
    );
    expect(links.find((l) => l.stage === 'manual')).toMatchObject({ relation: 'exclusive', confidence: 1 });
    await until('the link in the store', async () => {
      const s = await db.query(
        'SELECT 1 FROM market_matches WHERE a_market = $1 AND b_market = $2 AND stage = $3',
        [ra.marketId, rb.marketId, 'manual'],
      );
      return s.rows.length === 1;
    });
    await page.selectOption('#link-filters select[name="stage"]', 'manual');
    await page.waitForSelector(`#links tbody tr:has-text("${b!.question.slice(0, 30)}")`);
    await until('the pair to leave the review queue', async () => (await page.locator(ourRow).count()) === 0);
    expect((await matchStore.listOverrides()).map((o) => o.decision)).toEqual(['approve']);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});

/**
 * `pm-arb matches` end to end: the real CLI in a child process, a capture written from the seeded simulator's
 * listing frames (decoded by the venue decoders), the match file under a temporary DATA_DIR, and the real
 * Anthropic SDK pointed at the local fake Messages API.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { Matcher } from '../../src/matcher/matcher.ts';
import { createJsonMatchStore, matchFilePath } from '../../src/matcher/store.ts';
import { SimMarket } from '../../src/venues/sim/market.ts';
import { type FakeAnthropic, judgeEach, promptPairs, startFakeAnthropic } from '../fakes/anthropic-server.ts';
import { kalshi, kxFed, pm, pmFed } from './cases.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../bin/pm-arb.js');
const LISTINGS = [
  'polymarket.gamma.markets',
  'polymarket.gamma.events',
  'kalshi.rest.markets',
  'kalshi.rest.events',
];

interface JsonOut {
  links: {
    a: { venue: string; id: string };
    b: { venue: string; id: string };
    relation: string;
    confidence: number;
    stage: string;
    reasons: string[];
  }[];
}

// each test runs the CLI several times; on a busy shared machine one start can take seconds
const CLI_TIMEOUT = 180_000;

describe('pm-arb matches', { timeout: CLI_TIMEOUT }, () => {
  let dir: string;
  let capture: string;
  let sim: SimMarket;
  let fake: FakeAnthropic;
  const env = (extra: Record<string, string> = {}) => {
    const e: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'error',
      ...extra,
    };
    return e;
  };
  const cli = async (args: string[], extra: Record<string, string> = {}) =>
    run(process.execPath, [BIN, ...args], { env: env(extra), cwd: dir, maxBuffer: 1 << 26 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pmarb-matches-'));
    sim = new SimMarket({ seed: 7 });
    const frames = sim
      .advance(sim.start + 2_000)
      .filter((f) => LISTINGS.includes(f.source.replace(/^sim\./, '')));
    capture = join(dir, 'listings.jsonl');
    writeFileSync(capture, frames.map((f) => JSON.stringify(f)).join('\n') + '\n');
    fake = await startFakeAnthropic(
      judgeEach(() => ({ relation: 'identical', confidence: 0.92, reasoning: 'same FOMC decision' })),
    );
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links every simulated crypto pair by the rules (identical or inverted) and lists rejected candidates', async () => {
    const { stdout } = await cli(['matches', '--capture', capture, '--json']);
    const out = JSON.parse(stdout) as JsonOut;
    const crypto = sim.describe().pairs.filter((p) => p.kind === 'crypto');
    expect(crypto.length).toBeGreaterThan(0);
    for (const p of crypto) {
      const l = out.links.find(
        (x) =>
          x.a.venue === 'polymarket' &&
          x.a.id === p.polymarket.marketId &&
          x.b.venue === 'kalshi' &&
          x.b.id === p.kalshi.marketId,
      );
      expect(l, `pair ${p.kalshi.marketId}`).toBeDefined();
      expect(l!.relation).toBe(p.inverted ? 'inverted' : 'identical');
      expect(l!.stage).toBe('rules');
      expect(Object.keys(l!).sort()).toEqual(['a', 'b', 'confidence', 'reasons', 'relation', 'stage']);
    }
    const unlinked = out.links.filter((l) => l.relation === 'different' || l.relation === 'undetermined');
    expect(unlinked.length).toBeGreaterThan(0);
    expect(unlinked.every((l) => l.reasons.length > 0)).toBe(true);
    // a text-only pair is undetermined without an LLM, with confidence 0
    expect(out.links.some((l) => l.relation === 'undetermined' && l.confidence === 0)).toBe(true);
  });

  it('an audit never writes the live match file', async () => {
    const live = matchFilePath(join(dir, 'data'));
    const before = existsSync(live) ? readFileSync(live, 'utf8') : undefined;
    await cli(['matches', '--capture', capture, '--json']);
    expect(existsSync(live) ? readFileSync(live, 'utf8') : undefined).toBe(before);
    expect(existsSync(join(dir, 'data', 'matches-audit.json'))).toBe(true);
  });

  it('prints a readable table without --json', async () => {
    const { stdout } = await cli(['matches', '--capture', capture]);
    expect(stdout).toMatch(
      /\d+ markets, \d+ candidate pairs, \d+ linked, \d+ undetermined \(rules only: ANTHROPIC_API_KEY is not set\)/,
    );
    expect(stdout).toMatch(/^identical +0\.96 +rules +polymarket:/m);
    expect(stdout).toMatch(/oracle links:/);
  });

  it('asks the LLM for undetermined pairs when ANTHROPIC_API_KEY is set, then answers from the cache', async () => {
    const llmEnv = {
      ANTHROPIC_API_KEY: 'test',
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODEL: 'claude-test',
    };
    const first = JSON.parse(
      (await cli(['matches', '--capture', capture, '--json'], llmEnv)).stdout,
    ) as JsonOut;
    const requests = fake.requests.length;
    const asked = fake.requests.reduce((n, r) => n + promptPairs(r).length, 0);
    expect(asked).toBeGreaterThan(0);
    const llm = first.links.filter((l) => l.stage === 'llm');
    expect(llm.length).toBe(asked);
    expect(llm.every((l) => l.relation === 'identical' && l.confidence === 0.92)).toBe(true);
    const second = JSON.parse(
      (await cli(['matches', '--capture', capture, '--json'], llmEnv)).stdout,
    ) as JsonOut;
    expect(fake.requests.length).toBe(requests);
    expect(second.links.filter((l) => l.stage === 'cache').length).toBe(asked);
    // --min-confidence above the cached confidence turns them down
    const strict = JSON.parse(
      (await cli(['matches', '--capture', capture, '--json', '--min-confidence', '0.95'], llmEnv)).stdout,
    ) as JsonOut;
    expect(strict.links.filter((l) => l.stage === 'cache').every((l) => l.relation === 'undetermined')).toBe(
      true,
    );
  });

  it('approve and reject edit the manual list, which overrides the matcher', async () => {
    const pair = sim.describe().pairs.find((p) => p.kind === 'crypto' && !p.inverted)!;
    const a = `polymarket:${pair.polymarket.marketId}`;
    const b = `kalshi:${pair.kalshi.marketId}`;
    const { stdout: said } = await cli(['matches', 'reject', a, b, '--note', 'test']);
    expect(said).toMatch(/^rejected/);
    const out = JSON.parse((await cli(['matches', '--capture', capture, '--json'])).stdout) as JsonOut;
    const l = out.links.find((x) => x.a.id === pair.polymarket.marketId && x.b.id === pair.kalshi.marketId)!;
    expect(l).toMatchObject({ relation: 'different', stage: 'manual', confidence: 1 });
    await cli(['matches', 'approve', a, b]);
    const again = JSON.parse((await cli(['matches', '--capture', capture, '--json'])).stdout) as JsonOut;
    expect(
      again.links.find((x) => x.a.id === pair.polymarket.marketId && x.b.id === pair.kalshi.marketId),
    ).toMatchObject({
      relation: 'identical',
      stage: 'manual',
    });
    await expect(cli(['matches', 'approve', 'nowhere:1', b])).rejects.toMatchObject({ code: 2 });
  });

  it('without --capture lists the running system’s links from the match file', async () => {
    const live = createJsonMatchStore(matchFilePath(join(dir, 'data')));
    await live.putLink({
      type: 'link',
      a: { venue: 'polymarket', marketId: '0xabc' },
      b: { venue: 'kalshi', marketId: 'KXBTCD-26DEC3112-T100000' },
      relation: 'identical',
      confidence: 0.96,
      stage: 'rules',
      reasons: ['same above $100,000'],
      decidedAt: 1,
    });
    live.flush();
    const out = JSON.parse((await cli(['matches', '--json'])).stdout) as JsonOut;
    expect(out.links).toEqual([
      {
        a: { venue: 'polymarket', id: '0xabc' },
        b: { venue: 'kalshi', id: 'KXBTCD-26DEC3112-T100000' },
        relation: 'identical',
        confidence: 0.96,
        stage: 'rules',
        reasons: ['same above $100,000'],
      },
    ]);
    const { stdout } = await cli(['matches']);
    expect(stdout).toMatch(/1 links from .*matches\.json/);
    expect(stdout).toMatch(/manual overrides:/);
  });
});

describe('pm-arb matches --review', { timeout: CLI_TIMEOUT }, () => {
  let dir: string;
  const env = () => ({ PATH: process.env.PATH ?? '', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'error' });
  const cli = (args: string[]) => run(process.execPath, [BIN, ...args], { env: env(), cwd: dir });
  const nominee = pm(
    'pm-nom-cole',
    'Will Dana Cole win the 2028 Democratic presidential nomination?',
    'Resolves Yes if Dana Cole is the nominee.',
    '2028-08-20T00:00:00Z',
  );
  const kxNominee = kalshi(
    'KXDEMNOM-28-DCOL',
    'Will Dana Cole be the Democratic Presidential nominee in 2028?',
    'If Dana Cole is the nominee, then the market resolves to Yes.',
    '2028-08-01T00:00:00Z',
    { subtitle: 'Dana Cole' },
  );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pmarb-review-cli-'));
    // what the running matcher agent leaves in the live match file, rules only
    const store = createJsonMatchStore(matchFilePath(join(dir, 'data')));
    const m = new Matcher({ store, minConfidence: 0.8, now: () => 1_000, log: silentLogger() });
    await m.init();
    await m.decideMany([
      [nominee, kxNominee],
      [pmFed, kxFed],
    ]);
    store.flush();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  interface Queue {
    queue: {
      id: string;
      a: { marketId: string; question: string; rules: string };
      b: { subtitle?: string };
      relation: string;
    }[];
  }

  it('lists the queue with both questions and rules side by side, and as JSON with copyable ids', async () => {
    const q = JSON.parse((await cli(['matches', '--review', '--json'])).stdout) as Queue;
    expect(q.queue.map((r) => [r.a.marketId, r.relation])).toEqual([
      ['pm-nom-cole', 'undetermined'],
      [pmFed.marketId, 'undetermined'],
    ]);
    expect(q.queue[0]!.b.subtitle).toBe('Dana Cole');
    const { stdout } = await cli(['matches', '--review']);
    expect(stdout).toMatch(/^2 pairs wait for review in .*matches\.json/);
    expect(stdout).toContain(`${q.queue[0]!.id}  undetermined 0.00 (rules)`);
    expect(stdout).toContain('  A polymarket:pm-nom-cole');
    expect(stdout).toMatch(
      /Q: Will Dana Cole win the 2028 Democratic presidential +│ Q: Will Dana Cole be the Democratic/,
    );
    expect(stdout).toMatch(/rules: Resolves Yes if Dana Cole is the nominee\. +│ /);
    expect(stdout).toContain('pm-arb matches --review --approve ID');
  });

  it('approves and rejects per pair, by flag, by subcommand or interactively', async () => {
    const q = JSON.parse((await cli(['matches', '--review', '--json'])).stdout) as Queue;
    const [cole, fed] = q.queue;
    const ok = JSON.parse(
      (await cli(['matches', '--review', '--approve', cole!.id, '--relation', 'identical', '--json'])).stdout,
    );
    expect(ok.decided).toMatchObject({
      decision: 'approve',
      relation: 'identical',
      a: { venue: 'polymarket', marketId: 'pm-nom-cole' },
    });
    await expect(cli(['matches', '--review', '--approve', cole!.id])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no pair "r-[0-9a-f]{8}" in the review queue/),
    });
    await expect(
      cli(['matches', '--review', '--approve', fed!.id, '--relation', 'different']),
    ).rejects.toMatchObject({
      code: 2,
    });
    // the interactive prompt (piped here): an unknown key is asked again, then x = exclusive
    const child = spawn(process.execPath, [BIN, 'matches', '--review', '--interactive'], {
      env: env(),
      cwd: dir,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stdin.end('?\nx\n');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(out).toContain('(one of i, v, m, x, r, s, q)');
    expect(out).toContain(`approved ${fed!.id} as exclusive`);
    expect(out).toContain('1 approved, 0 rejected');
    expect((await cli(['matches', '--review'])).stdout).toMatch(/^nothing waits for review/);
    const overrides = JSON.parse(readFileSync(matchFilePath(join(dir, 'data')), 'utf8')).overrides as {
      decision: string;
      relation?: string;
    }[];
    expect(overrides.map((o) => [o.decision, o.relation])).toEqual([
      ['approve', 'identical'],
      ['approve', 'exclusive'],
    ]);
    // the subcommand takes a pair of venue:id too, and a review id alone
    expect(
      (await cli(['matches', 'reject', 'polymarket:pm-nom-cole', 'kalshi:KXDEMNOM-28-DCOL'])).stdout,
    ).toMatch(/^rejected polymarket:pm-nom-cole kalshi:KXDEMNOM-28-DCOL/);
    await expect(cli(['matches', 'approve', 'pm-nom-cole'])).rejects.toMatchObject({ code: 2 });
    await expect(cli(['matches', '--approve', cole!.id])).rejects.toMatchObject({ code: 2 });
  });
});

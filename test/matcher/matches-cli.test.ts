/**
 * `pm-arb matches` end to end: the real CLI in a child process, a capture written from the seeded simulator's
 * listing frames (decoded by the venue decoders), the match file under a temporary DATA_DIR, and the real
 * Anthropic SDK pointed at the local fake Messages API.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonMatchStore, matchFilePath } from '../../src/matcher/store.ts';
import { SimMarket } from '../../src/venues/sim/market.ts';
import { type FakeAnthropic, startFakeAnthropic, toolAnswer } from '../fakes/anthropic-server.ts';

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

describe('pm-arb matches', () => {
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
    fake = await startFakeAnthropic(() =>
      toolAnswer({
        same_event: true,
        relation: 'identical',
        resolution_differences: [],
        confidence: 0.92,
        reasoning: 'same FOMC decision',
      }),
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
    const rejected = out.links.filter((l) => l.relation === 'different');
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((l) => l.reasons.length > 0)).toBe(true);
    // a text-only pair is undetermined without an LLM
    expect(rejected.some((l) => l.reasons[0] === 'undetermined')).toBe(true);
  });

  it('prints a readable table without --json', async () => {
    const { stdout } = await cli(['matches', '--capture', capture]);
    expect(stdout).toMatch(
      /\d+ markets, \d+ candidate pairs, \d+ linked \(rules only: ANTHROPIC_API_KEY is not set\)/,
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
    const asked = fake.requests.length;
    expect(asked).toBeGreaterThan(0);
    const llm = first.links.filter((l) => l.stage === 'llm');
    expect(llm.length).toBe(asked);
    expect(llm.every((l) => l.relation === 'identical' && l.confidence === 0.92)).toBe(true);
    const second = JSON.parse(
      (await cli(['matches', '--capture', capture, '--json'], llmEnv)).stdout,
    ) as JsonOut;
    expect(fake.requests.length).toBe(asked);
    expect(second.links.filter((l) => l.stage === 'cache').length).toBe(asked);
    // --min-confidence above the cached confidence turns them down
    const strict = JSON.parse(
      (await cli(['matches', '--capture', capture, '--json', '--min-confidence', '0.95'], llmEnv)).stdout,
    ) as JsonOut;
    expect(strict.links.filter((l) => l.stage === 'cache').every((l) => l.relation === 'different')).toBe(
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
    await createJsonMatchStore(matchFilePath(join(dir, 'data'))).putLink({
      type: 'link',
      a: { venue: 'polymarket', marketId: '0xabc' },
      b: { venue: 'kalshi', marketId: 'KXBTCD-26DEC3112-T100000' },
      relation: 'identical',
      confidence: 0.96,
      stage: 'rules',
      reasons: ['same above $100,000'],
      decidedAt: 1,
    });
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

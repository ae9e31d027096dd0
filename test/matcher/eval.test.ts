/**
 * The evaluation on labelled pairs, on a pairs file written for this suite (invented markets in the dev-set
 * format: test/matcher/data/pairs-sample.jsonl): in process, with the LLM on the fake Messages API, and through
 * the CLI (`pm-arb matches --eval`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { evaluatePairs, formatEvalReport, parsePairs, sideToMarket } from '../../src/matcher/eval.ts';
import { createAnthropicJudge } from '../../src/matcher/llm.ts';
import { Matcher } from '../../src/matcher/matcher.ts';
import { createMemoryMatchStore } from '../../src/matcher/store.ts';
import { type FakeAnthropic, judgeEach, startFakeAnthropic } from '../fakes/anthropic-server.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../bin/pm-arb.js');
const SAMPLE = resolve(import.meta.dirname, 'data/pairs-sample.jsonl');

const rulesOnly = () =>
  new Matcher({ store: createMemoryMatchStore(), minConfidence: 0.8, now: () => 0, log: silentLogger() });

describe('evaluation on labelled pairs', { timeout: 180_000 }, () => {
  let fake: FakeAnthropic;
  let dir: string;
  beforeAll(async () => {
    fake = await startFakeAnthropic(judgeEach(() => ({ relation: 'identical', confidence: 0.95 })));
    dir = mkdtempSync(join(tmpdir(), 'pmarb-eval-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the dev-set format and names the line of a bad pair', () => {
    const { pairs, errors } = parsePairs(
      `${readFileSync(SAMPLE, 'utf8')}\n{"a": {"venue": "polymarket"}, "b": {"venue": "kalshi"}, "label": "same"}\nnot json\n`,
    );
    expect(pairs).toHaveLength(16);
    expect(errors).toEqual([
      'line 18: label: Invalid option: expected one of "identical"|"inverted"|"implies"|"exclusive"|"different"',
      expect.stringMatching(/^line 19: not JSON/),
    ]);
    const k = sideToMarket(pairs[0]!.b)!;
    expect(k).toMatchObject({
      venue: 'kalshi',
      marketId: 'KXBTCD-26DEC3112-T120000',
      eventId: 'KXBTCD-26DEC3112',
      subtitle: 'Above $120,000',
      endTime: Date.parse('2026-12-31T17:00:00Z'),
    });
    expect(sideToMarket(pairs[15]!.a)).toBeUndefined();
  });

  it('rules only: candidates, verdicts per label, confusion matrix, no near miss linked', async () => {
    const { pairs } = parsePairs(readFileSync(SAMPLE, 'utf8'));
    const r = await evaluatePairs(pairs, rulesOnly());
    expect(r).toMatchObject({ rulesOnly: true, pairs: 16, evaluated: 15, markets: 27, relatedProposed: 1 });
    expect(r.skipped).toEqual([
      { line: 16, label: 'inverted', why: 'side a (polymarket) has no title, subtitle, slug or ticker' },
    ]);
    expect(r.candidatesPerMarket.max).toBeLessThanOrEqual(11);
    expect(r.confusion).toEqual({
      identical: { identical: 1, undetermined: 3 },
      inverted: { inverted: 1, undetermined: 1 },
      implies: { implies: 1, undetermined: 1 },
      exclusive: { undetermined: 1 },
      different: { different: 5, undetermined: 1 },
    });
    // the near miss one hour apart is not even a candidate: crypto markets meet by settlement instant
    expect(r.byLabel.different).toMatchObject({ pairs: 6, proposed: 5, precision: 1, recall: 5 / 6 });
    expect(r.byLabel.exclusive).toMatchObject({ precision: undefined, recall: 0 });
    expect(r.nearMissesLinked).toEqual([]);
    expect(r.nearMissesIdenticalOrInverted).toBe(0);
    expect(r.rulesUndecided).toBe(7);
    expect(r.undecidedReportedUndetermined).toBe(true);
    const text = formatEvalReport(r);
    expect(text).toMatch(
      /^15 of 16 pairs evaluated \(rules only: ANTHROPIC_API_KEY is not set\), 27 markets/,
    );
    expect(text).toMatch(/^different +6 +5 100% +83% +different 5, undetermined 1$/m);
    expect(text).toContain('near misses called a match: none');
  });

  it('with an LLM that links everything, the report lists the near miss it linked and what it cost', async () => {
    const { pairs } = parsePairs(readFileSync(SAMPLE, 'utf8'));
    const llm = createAnthropicJudge({
      apiKey: 'k',
      baseUrl: fake.url,
      model: 'claude-haiku-4-5',
      log: silentLogger(),
      maxRetries: 0,
    });
    const m = new Matcher({
      store: createMemoryMatchStore(),
      llm,
      minConfidence: 0.8,
      now: () => 0,
      log: silentLogger(),
    });
    const r = await evaluatePairs(pairs, m);
    expect(r.rulesOnly).toBe(false);
    // the rules still decide what they read; the LLM only sees the 7 pairs they could not settle
    expect(fake.requests.map((q) => q.body.messages[0].content.match(/=== Pair/g).length)).toEqual([5, 2]);
    expect(r.nearMissesLinked.map((x) => [x.line, x.verdict, x.stage])).toEqual([[7, 'identical', 'llm']]);
    expect(r.nearMissesIdenticalOrInverted).toBe(1);
    expect(r.byLabel.identical).toMatchObject({ recall: 1, precision: 4 / 7 });
    expect(formatEvalReport(r)).toMatch(/near misses called a match:\n {2}line 7: identical \(llm, 0\.95\)/);
  });

  it('pm-arb matches --eval prints the report, --json the same figures; a bad file is a usage error', async () => {
    const env = { PATH: process.env.PATH ?? '', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'error' };
    const { stdout } = await run(process.execPath, [BIN, 'matches', '--eval', SAMPLE, '--json'], { env });
    const j = JSON.parse(stdout);
    expect(j).toMatchObject({
      rulesOnly: true,
      evaluated: 15,
      relatedProposed: 1,
      nearMissesIdenticalOrInverted: 0,
      undecidedReportedUndetermined: true,
    });
    expect(j.confusion.different).toEqual({ different: 5, undetermined: 1 });
    expect(j.results[0]).toMatchObject({ line: 1, label: 'identical', verdict: 'identical', proposed: true });
    const text = await run(process.execPath, [BIN, 'matches', '--eval', SAMPLE], { env });
    expect(text.stdout).toContain('confusion (rows: label, columns: verdict)');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"a": 1}\n');
    await expect(run(process.execPath, [BIN, 'matches', '--eval', bad], { env })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/line 1: a: /),
    });
    await expect(
      run(process.execPath, [BIN, 'matches', '--eval', join(dir, 'missing.jsonl')], { env }),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot read the pairs file/) });
  });
});

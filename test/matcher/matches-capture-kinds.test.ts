/**
 * `pm-arb matches --capture` on the two other kinds of capture the issue names: one written by hand from full
 * Gamma and Kalshi market objects (the owned fixtures, with the fields that define a BTC threshold market
 * rewritten), and one made by recording a session against the local fake Polymarket and Kalshi servers — in
 * rules-only mode and through the fake Anthropic Messages API.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecording } from '../../src/capture/record.ts';
import { createCaptureWriter } from '../../src/capture/writer.ts';
import { createKalshiFeed } from '../../src/venues/kalshi/feed.ts';
import type { WireEvent, WireMarket } from '../../src/venues/kalshi/wire.ts';
import { createPolymarketFeed } from '../../src/venues/polymarket/feed.ts';
import type { GammaMarket } from '../../src/venues/polymarket/wire.ts';
import { type FakeAnthropic, judgeEach, startFakeAnthropic } from '../fakes/anthropic-server.ts';
import { startKalshiFake } from '../fakes/kalshi-server.ts';
import { startFakePolymarket } from '../fakes/polymarket-server.ts';
import { waitFor } from '../fakes/ws-fake.ts';
import { fixtureJson } from '../helpers/fixtures.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../bin/pm-arb.js');

const gammaBase = fixtureJson<GammaMarket>('polymarket/gamma-market-negrisk.json');
const kalshiBase = fixtureJson<WireMarket>('kalshi/rest-market-active.json');
const kalshiEvent = fixtureJson<WireEvent>('kalshi/rest-event.json');

const tokens = (n: number): string => JSON.stringify([`${n}1`.padEnd(77, '7'), `${n}2`.padEnd(77, '3')]);

/** A full Gamma market object made into a BTC-above-$100k market settling on the given rules. */
function gamma(
  id: string,
  question: string,
  description: string,
  n: number,
  end = '2026-12-31T17:00:00Z',
): GammaMarket {
  return {
    ...gammaBase,
    id,
    question,
    description,
    conditionId: `0x${id.padStart(64, '0')}`,
    slug: id,
    endDate: end,
    endDateIso: end.slice(0, 10),
    clobTokenIds: tokens(n),
    negRisk: false,
    negRiskMarketID: undefined,
    negRiskRequestID: undefined,
    groupItemTitle: undefined,
    events: undefined,
    feeType: 'crypto_fees',
    feeSchedule: { exponent: 1, rate: 0.07, takerOnly: true, rebateRate: 0.2 },
  } as unknown as GammaMarket;
}

const BRTI_PM =
  'This market will resolve to "Yes" if the CF Benchmarks Bitcoin Real-Time Index (BRTI), averaged over the 60 seconds before 12:00 PM ET on December 31, 2026, is above $100,000. Otherwise, this market will resolve to "No".';
const BINANCE_PM =
  'This market will resolve to "Yes" if the Binance 1 hour candle for BTC/USDT 12:00 in the ET timezone (noon) on the date specified in the title has a final "Close" price higher than the price specified in the title. Otherwise, this market will resolve to "No".';

const pmBrti = gamma(
  '9100001',
  'Will the price of Bitcoin be above $100,000 on December 31, 2026 at 12 PM ET?',
  BRTI_PM,
  1,
);
const pmBinance = gamma(
  '9100002',
  'Will the price of Bitcoin be above $100,000 on December 31?',
  BINANCE_PM,
  2,
);
const pmFed = gamma(
  '9100003',
  'Will the Fed cut interest rates at the December 2026 meeting?',
  'Resolves "Yes" if the FOMC announces a cut to the federal funds target range at its December 2026 meeting.',
  3,
  '2026-12-16T19:00:00Z',
);

/** A full Kalshi market object made into a BTC daily threshold market. */
const kxBtc: WireMarket = {
  ...kalshiBase,
  ticker: 'KXBTCD-26DEC3112-T100000',
  event_ticker: 'KXBTCD-26DEC3112',
  title: 'Bitcoin price on Dec 31, 2026?',
  yes_sub_title: '$100,000 or above',
  no_sub_title: '$100,000 or above',
  rules_primary:
    "If the simple average of the sixty seconds of CF Benchmarks' Bitcoin Real-Time Index (BRTI) before 12 PM EST on Dec 31, 2026 is above $100,000.00, then the market resolves to Yes. Outcome verified from CF Benchmarks.",
  rules_secondary: '',
  close_time: '2026-12-31T17:00:00Z',
  expiration_time: '2026-12-31T17:00:00Z',
  latest_expiration_time: '2026-12-31T17:00:00Z',
  expected_expiration_time: '2026-12-31T17:00:00Z',
  occurrence_datetime: '2026-12-31T17:00:00Z',
  custom_strike: undefined,
} as unknown as WireMarket;
const kxFed: WireMarket = {
  ...kalshiBase,
  ticker: 'KXFEDDECISION-26DEC-C25',
  event_ticker: 'KXFEDDECISION-26DEC',
  title: 'Fed cuts interest rates in December 2026?',
  yes_sub_title: 'Cut 25bps',
  no_sub_title: 'Cut 25bps',
  rules_primary:
    'If the Federal Reserve cuts the federal funds target range at its December 2026 meeting, then the market resolves to Yes.',
  rules_secondary: '',
  close_time: '2026-12-16T19:00:00Z',
  custom_strike: undefined,
} as unknown as WireMarket;

interface Link {
  a: { venue: string; id: string };
  b: { venue: string; id: string };
  relation: string;
  confidence: number;
  stage: string;
  reasons: string[];
}

const pmId = (g: GammaMarket): string => `polymarket:${String((g as { conditionId: string }).conditionId)}`;
const find = (links: Link[], x: string, y: string): Link | undefined =>
  links.find((l) => {
    const ids = [`${l.a.venue}:${l.a.id}`, `${l.b.venue}:${l.b.id}`];
    return ids.includes(x) && ids.includes(y);
  });

describe('pm-arb matches on hand-made and recorded captures', () => {
  let dir: string;
  let fake: FakeAnthropic;
  const cli = async (args: string[], extra: Record<string, string> = {}): Promise<Link[]> => {
    const env = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: join(dir, `data-${Math.random()}`),
      LOG_LEVEL: 'error',
      ...extra,
    };
    const { stdout } = await run(process.execPath, [BIN, ...args, '--json'], {
      env,
      cwd: dir,
      maxBuffer: 1 << 26,
    });
    return (JSON.parse(stdout) as { links: Link[] }).links;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pmarb-matches-kinds-'));
    fake = await startFakeAnthropic(
      judgeEach(() => ({
        relation: 'identical',
        confidence: 0.93,
        reasoning: 'both resolve on the December 2026 FOMC decision',
      })),
    );
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a capture written by hand from Gamma and Kalshi market objects: rules link, near miss, LLM stage', async () => {
    const capture = join(dir, 'by-hand.jsonl');
    const lines = [
      { ts: 1, source: 'polymarket.gamma.markets', data: [pmBrti, pmBinance, pmFed, gammaBase] },
      { ts: 2, source: 'kalshi.rest.events', data: { events: [kalshiEvent], cursor: '' } },
      { ts: 3, source: 'kalshi.rest.markets', data: { markets: [kxBtc, kxFed, kalshiBase], cursor: '' } },
    ];
    writeFileSync(capture, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

    const rulesOnly = await cli(['matches', '--capture', capture]);
    const same = find(rulesOnly, pmId(pmBrti), 'kalshi:KXBTCD-26DEC3112-T100000');
    expect(same).toMatchObject({ relation: 'identical', stage: 'rules' });
    const nearMiss = find(rulesOnly, pmId(pmBinance), 'kalshi:KXBTCD-26DEC3112-T100000');
    expect(nearMiss).toMatchObject({ relation: 'different', stage: 'rules' });
    expect(nearMiss!.reasons.join(' ')).toMatch(/settlement source differs/);
    const fedRules = find(rulesOnly, pmId(pmFed), 'kalshi:KXFEDDECISION-26DEC-C25');
    expect(fedRules).toMatchObject({ relation: 'undetermined', stage: 'rules', confidence: 0 });

    const withLlm = await cli(['matches', '--capture', capture], {
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: fake.url,
    });
    expect(find(withLlm, pmId(pmFed), 'kalshi:KXFEDDECISION-26DEC-C25')).toMatchObject({
      relation: 'identical',
      stage: 'llm',
    });
    // the rules still decide what they can read; the LLM never overrules a settlement difference
    expect(find(withLlm, pmId(pmBinance), 'kalshi:KXBTCD-26DEC3112-T100000')).toMatchObject({
      relation: 'different',
      stage: 'rules',
    });
  });

  it('a capture made by recording a session against the fake venue servers', async () => {
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const pm = await startFakePolymarket({ markets: [pmBrti, pmBinance] });
    const kx = await startKalshiFake({
      keyId: 'k',
      publicKeyPem: keys.publicKey,
      markets: [kxBtc],
      events: [kalshiEvent],
      books: { 'KXBTCD-26DEC3112-T100000': { yes: [['0.4000', '10.00']], no: [['0.5500', '7.00']] } },
    });
    const capture = join(dir, 'recorded.jsonl');
    const now = () => Date.now();
    let listed = 0;
    const recording = await startRecording({
      sources: [
        createPolymarketFeed({ gammaUrl: pm.gammaUrl, clobUrl: pm.clobUrl, wsUrl: pm.wsUrl, now }),
        createKalshiFeed({
          restUrl: kx.restUrl,
          wsUrl: kx.wsUrl,
          keyId: 'k',
          privateKeyPem: keys.privateKey,
          now,
          refreshMs: 0,
        }),
      ],
      writer: createCaptureWriter({ path: capture }),
      tee: (f) => {
        if (f.source === 'kalshi.rest.markets' || f.source === 'polymarket.gamma.markets') listed++;
      },
    });
    try {
      await waitFor(() => listed >= 2, 15_000, 'both listings recorded');
    } finally {
      await recording.stop();
      await pm.close();
      await kx.close();
    }
    expect(readFileSync(capture, 'utf8')).toContain('"source":"kalshi.rest.markets"');
    const links = await cli(['matches', '--capture', capture]);
    expect(find(links, pmId(pmBrti), 'kalshi:KXBTCD-26DEC3112-T100000')).toMatchObject({
      relation: 'identical',
      stage: 'rules',
    });
    expect(find(links, pmId(pmBinance), 'kalshi:KXBTCD-26DEC3112-T100000')?.relation).toBe('different');
  });
});

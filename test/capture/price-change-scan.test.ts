/**
 * The capture read worker's price_change scanner (src/capture/price-change-scan.ts) against the JSON path it
 * stands in for: for every line it accepts, the same record (numbers and strings) as parseCaptureLine +
 * preparePriceChange; lines it does not recognise exactly it leaves alone (the worker then takes the JSON path).
 */
import { describe, expect, it } from 'vitest';
import { scanPriceChangeLine } from '../../src/capture/price-change-scan.ts';
import { BatchWriter } from '../../src/capture/read-worker.ts';
import { parseCaptureLine } from '../../src/capture/reader.ts';
import { REC } from '../../src/capture/worker-client.ts';
import { formatCaptureLine } from '../../src/capture/writer.ts';
import { mulberry32 } from '../../src/core/prng.ts';
import { baseSource } from '../../src/feeds/types.ts';
import { preparePriceChange } from '../../src/venues/polymarket/prepared.ts';
import { simulateFrames } from '../../src/venues/sim/feed.ts';

/** The worker's JSON path for a price_change line (read-worker.ts: parseCaptureLine, then prepare). */
function jsonPath(line: string, w: BatchWriter, scratch: number[]): boolean {
  const f = parseCaptureLine(line);
  if ('error' in f || f.req !== undefined) return false;
  const at = w.k;
  w.num(REC.POLY_PC);
  w.num(f.ts);
  w.str(f.source);
  if (baseSource(f.source) === 'polymarket.ws.market' && preparePriceChange(f.data, w, scratch)) return true;
  w.k = at;
  return false;
}

/** A writer's records so far as plain values, its string ids resolved (`table`: every string it ever sent). */
function records(w: BatchWriter, table: string[]): unknown[] {
  const { nums, strings } = w.take(0) as { nums: ArrayBuffer; strings: string[] };
  table.push(...strings);
  const n = new Float64Array(nums);
  const out: unknown[] = [];
  for (let i = 0; i < n.length; ) {
    expect(n[i]).toBe(REC.POLY_PC);
    const count = n[i + 5]!;
    const levels: unknown[] = [];
    for (let j = 0; j < count; j++) {
      const at = i + 6 + 4 * j;
      levels.push([table[n[at]!], n[at + 1], n[at + 2], n[at + 3]]);
    }
    out.push({
      ts: n[i + 1],
      source: table[n[i + 2]!],
      market: table[n[i + 3]!],
      eventTime: n[i + 4],
      levels,
    });
    i += 6 + 4 * count;
  }
  return out;
}

/** Runs both paths over `lines` (each its own writer, kept across lines as in the worker); returns how many the scanner took. */
function compare(lines: readonly string[]): { scanned: number; json: number } {
  const fast = new BatchWriter();
  const slow = new BatchWriter();
  const fastTable: string[] = [];
  const slowTable: string[] = [];
  const scratch: number[] = [];
  let scanned = 0;
  let json = 0;
  for (const line of lines) {
    const took = scanPriceChangeLine(line, REC.POLY_PC, fast, scratch);
    const fastRecs = records(fast, fastTable);
    const jsonTook = jsonPath(line, slow, scratch);
    const slowRecs = records(slow, slowTable);
    if (jsonTook) json++;
    if (!took) {
      expect(fastRecs, line).toEqual([]); // nothing written for a line it leaves to the JSON path
      continue;
    }
    scanned++;
    expect(jsonTook, line).toBe(true);
    expect(fastRecs, line).toEqual(slowRecs);
  }
  return { scanned, json };
}

const T = 1_795_701_600_000;
const level = {
  asset_id: '123',
  price: '0.5',
  size: '10',
  side: 'BUY',
  hash: 'ab12',
  best_bid: '0.5',
  best_ask: '0.6',
};
const pcData = (changes: unknown[], extra: Record<string, unknown> = {}) => ({
  market: '0xm',
  price_changes: changes,
  timestamp: '1795701600006',
  event_type: 'price_change',
  ...extra,
});
const pc = (changes: unknown[], source = 'polymarket.ws.market', ts = T) =>
  formatCaptureLine({ ts, source, data: pcData(changes) });

describe('price_change scanner', () => {
  it('takes every simulated price_change line, with the JSON path’s record', () => {
    const lines: string[] = [];
    for (const seed of [1, 2, 3]) {
      for (const f of simulateFrames({ seed, minutes: 1, eventRate: 100 })) {
        const line = formatCaptureLine(f);
        if (line.includes('"price_change"')) lines.push(line);
      }
    }
    expect(lines.length).toBeGreaterThan(500);
    expect(compare(lines)).toEqual({ scanned: lines.length, json: lines.length });
  });

  it('agrees with the JSON path on odd values, and leaves what it does not recognise to it', () => {
    const big = '9'.repeat(200);
    const lines = [
      // taken: the values the decoder reads in every form it accepts
      pc([level]),
      pc([]),
      pc([level], 'sim.polymarket.ws.market', 0),
      pc([{ ...level, asset_id: big }, { ...level, asset_id: big, side: 'SELL' }, level]),
      pc([
        { ...level, price: '1' },
        { ...level, price: '0' },
        { ...level, price: '.5' },
        { ...level, price: '1.' },
      ]),
      pc([
        { ...level, price: '0.123456' },
        { ...level, price: '0.1234560000' },
        { ...level, price: '00.5' },
      ]),
      pc([
        { ...level, size: '0' },
        { ...level, size: '0.0000005' },
        { ...level, size: '123.4567894' },
      ]),
      pc([
        { ...level, size: '9007199254' },
        { ...level, size: '9007199254.740991' },
      ]),
      pc([
        { ...level, hash: '', best_bid: '', best_ask: '' },
        { ...level, hash: 'ü€ 😀 ],{' },
      ]),
      formatCaptureLine({ ts: T, source: 'polymarket.ws.market', data: pcData([level], { market: '' }) }),
      formatCaptureLine({ ts: T, source: 'polymarket.ws.market', data: pcData([level], { timestamp: '' }) }),
      formatCaptureLine({
        ts: T,
        source: 'polymarket.ws.market',
        data: pcData([level], { timestamp: 'x1' }),
      }),
      formatCaptureLine({
        ts: T,
        source: 'polymarket.ws.market',
        data: pcData([level], { timestamp: '9'.repeat(16) }),
      }),
      formatCaptureLine({
        ts: T,
        source: 'polymarket.ws.market',
        data: pcData([level], { timestamp: '9'.repeat(17) }),
      }),
      formatCaptureLine({ ts: 4_102_444_800_000, source: 'polymarket.ws.market', data: pcData([level]) }),
      // rejected by the decoder's rule: the JSON path does not prepare them either
      pc([level, { ...level, price: '1.0000001' }]),
      pc([{ ...level, price: '1.5' }]),
      pc([{ ...level, price: '0.1234567' }]),
      pc([{ ...level, price: '-0.1' }]),
      pc([{ ...level, size: '-1' }]),
      pc([{ ...level, size: '1e3' }]),
      pc([{ ...level, price: '1e-1' }]),
      pc([{ ...level, price: '0.5.1' }]),
      pc([{ ...level, size: '.' }]),
      pc([{ ...level, asset_id: '' }]),
      pc([{ ...level, side: 'buy' }]),
      pc([{ ...level, size: '1'.repeat(41) }]),
      pc([{ ...level, size: '9007199254.740992' }]), // past a safe integer of micro-shares
      formatCaptureLine({ ts: 4_102_444_800_001, source: 'polymarket.ws.market', data: pcData([level]) }),
      pc([level], 'kalshi.ws'),
      pc([level], 'sim.sim.polymarket.ws.market'),
      // valid, but not the writer's exact shape: left to the JSON path (which prepares most of them)
      pc([{ ...level, price: 0.5 }]),
      pc([{ ...level, size: 10 }]),
      pc([
        { asset_id: '1', price: '0.5', side: 'BUY', size: '10', hash: 'h', best_bid: '0.5', best_ask: '0.6' },
      ]),
      pc([{ asset_id: '1', price: '0.5', size: '10', side: 'BUY' }]),
      pc([{ ...level, extra: 1 }]),
      pc([{ ...level, hash: '}' }]), // (a `}` only in the strings it reads: it finds an entry's end by `"}`)
      pc([{ ...level, best_ask: '"}' }]),
      pc([null]),
      formatCaptureLine({ ts: T, source: 'polymarket.ws.market', data: pcData([level], { extra: 'x' }) }),
      formatCaptureLine({
        ts: T,
        source: 'polymarket.ws.market',
        data: pcData([level], { timestamp: 1795701600006 }),
      }),
      formatCaptureLine({
        ts: T,
        source: 'polymarket.ws.market',
        data: { event_type: 'price_change', market: '0xm', price_changes: [level], timestamp: '1' },
      }),
      formatCaptureLine({
        ts: T,
        source: 'polymarket.ws.market',
        data: { market: '0xm', price_changes: [level], event_type: 'price_change' },
      }),
      formatCaptureLine({ ts: T + 0.5, source: 'polymarket.ws.market', data: pcData([level]) }),
      formatCaptureLine({ ts: -1, source: 'polymarket.ws.market', data: pcData([level]) }),
      formatCaptureLine({
        ts: T,
        source: 'polymarket.ws.market',
        data: pcData([level]),
        req: { method: 'GET', path: '/' },
      }),
      // escapes (in a string the decoder reads, and in one it skips), whitespace, other spellings of the numbers
      pc([{ ...level, asset_id: '12"3' }]),
      pc([{ ...level, hash: 'a\\b' }]),
      pc([{ ...level, hash: 'tab\there' }]),
      pc([level]).replace('"asset_id":"123"', '"asset_id":"\\u0031\\u00323"'),
      pc([level]).replace('"hash":"ab12"', '"hash":"ab\tc"'), // a raw control character: invalid JSON
      pc([level]).replace(`"ts":${T}`, `"ts":${T}.0`),
      pc([level]).replace(`"ts":${T}`, `"ts":1.7957016e12`),
      pc([level]).replace(`"ts":${T}`, `"ts":0${T}`),
      pc([level]).replace(`"ts":${T}`, `"ts":-0`),
      pc([level]).replace(`"ts":${T}`, `"ts":${'1'.repeat(16)}`),
      pc([level]).replace(`"ts":${T}`, `"ts": ${T}`),
      `${pc([level])} `,
      ` ${pc([level])}`,
      pc([level, level]).replace('},{', '} ,{'),
      pc([level, level]).replace('},{', '}, {'),
      pc([level]).replace('"BUY"', '"BUY" '),
      pc([level]).replace('"market":"0xm",', '"market":"0xm","market":"0xn",'),
      pc([level]).replace('"hash":"ab12",', '"hash":"ab12","hash":"x",'),
      pc([level]).replace('"size":"10"', '"size":"10","size":"11"'),
      pc([level]).replace('"ts"', '"ts","x":1'),
      pc([level]).slice(0, -1),
      `${pc([level])}}`,
      pc([level]).replace(']', ',]'),
      pc([level]).replace('[', '[,'),
    ];
    expect(new Set(lines).size).toBe(lines.length); // every edit above changed its line
    const { scanned, json } = compare(lines);
    expect(scanned).toBe(15);
    expect(json).toBeGreaterThan(scanned);
  });

  it('agrees with the JSON path on random edits of simulated lines', () => {
    const rnd = mulberry32(19);
    const base: string[] = [];
    for (const f of simulateFrames({ seed: 7, minutes: 1, eventRate: 50 })) {
      const line = formatCaptureLine(f);
      if (line.includes('"price_change"') && line.length < 900) base.push(line);
    }
    expect(base.length).toBeGreaterThan(20);
    // characters that change a line's meaning or break it: structure, quotes, escapes, digits, signs, spaces
    const alphabet = [
      '"',
      '\\',
      ',',
      ':',
      '{',
      '}',
      '[',
      ']',
      ' ',
      '\t',
      '.',
      '-',
      '+',
      'e',
      '0',
      '5',
      '9',
      'a',
      'u',
    ];
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) {
      let s = base[Math.floor(rnd() * base.length)]!;
      const edits = 1 + Math.floor(rnd() * 2);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * s.length);
        const ch = alphabet[Math.floor(rnd() * alphabet.length)]!;
        const op = rnd();
        s =
          op < 0.4
            ? s.slice(0, at) + ch + s.slice(at + 1)
            : op < 0.7
              ? s.slice(0, at) + ch + s.slice(at)
              : s.slice(0, at) + s.slice(at + 1);
      }
      lines.push(s);
    }
    const { scanned, json } = compare(lines);
    // many edits leave a line the scanner takes (a digit in an id, a price or a size) and many break it
    expect(scanned).toBeGreaterThan(200);
    expect(scanned).toBeLessThan(lines.length - 500);
    expect(json).toBeGreaterThanOrEqual(scanned);
  });
});

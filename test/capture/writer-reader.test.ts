import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newReadStats, parseCaptureLine, readCapture, readCaptureBatches } from '../../src/capture/reader.ts';
import { createCaptureWriter, formatCaptureLine } from '../../src/capture/writer.ts';
import type { RawFrame } from '../../src/feeds/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmarb-capture-'));

async function readAll(path: string, opts: Parameters<typeof readCapture>[1] = {}): Promise<RawFrame[]> {
  const out: RawFrame[] = [];
  for await (const f of readCapture(path, opts)) out.push(f);
  return out;
}

const frames: RawFrame[] = [
  {
    ts: 1_700_000_000_000,
    source: 'polymarket.ws.market',
    data: { event_type: 'book', bids: [{ price: '0.5', size: '10' }] },
  },
  { ts: 1_700_000_000_001, source: 'polymarket.ws.market', data: 'PONG' },
  {
    ts: 1_700_000_000_002,
    source: 'kalshi.rest.orderbook',
    data: { orderbook_fp: { yes_dollars: [['0.0100', '200.00']] } },
    req: { method: 'GET', path: '/trade-api/v2/markets/KX-1/orderbook', query: { depth: '10' } },
  },
  {
    ts: 1_700_000_000_003,
    source: 'sim.binance.ws',
    data: { stream: 'btcusdt@trade', data: { p: '1.00000000', s: 'Ünïcødé €' } },
  },
  {
    ts: 1_700_000_000_004,
    source: 'polymarket.gamma.markets',
    data: [],
    req: { method: 'GET', path: '/markets' },
  },
];

describe('capture writer and reader', () => {
  it('round-trips frames, REST requests and non-JSON payloads', async () => {
    const path = join(dir, 'round.jsonl');
    const w = createCaptureWriter({ path, bufferBytes: 64 });
    for (const f of frames) w.write(f);
    await w.close();
    expect(w.lines).toBe(frames.length);
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toHaveLength(frames.length + 1);
    expect(text.endsWith('\n')).toBe(true);
    // the documented line shape, req only on REST responses
    expect(JSON.parse(text.split('\n')[2]!)).toEqual({
      ts: 1_700_000_000_002,
      source: 'kalshi.rest.orderbook',
      data: { orderbook_fp: { yes_dollars: [['0.0100', '200.00']] } },
      req: { method: 'GET', path: '/trade-api/v2/markets/KX-1/orderbook', query: { depth: '10' } },
    });
    expect(text.split('\n')[0]).not.toContain('"req"');
    expect(await readAll(path)).toEqual(frames);
  });

  it('reads across chunk boundaries, including multi-byte characters split between chunks', async () => {
    const path = join(dir, 'chunks.jsonl');
    const w = createCaptureWriter({ path });
    for (let i = 0; i < 200; i++) w.write({ ts: i, source: 'x', data: { s: `€€ ${i} ✓` } });
    await w.close();
    const stats = newReadStats();
    const got = await readAll(path, { highWaterMark: 7, stats });
    expect(got).toHaveLength(200);
    expect(got[199]).toEqual({ ts: 199, source: 'x', data: { s: '€€ 199 ✓' } });
    expect(stats.frames).toBe(200);
    expect(stats.bad).toBe(0);
  });

  it('yields batches of about batchBytes of lines from larger reads, every frame once and in order', async () => {
    const path = join(dir, 'batches.jsonl');
    const w = createCaptureWriter({ path });
    for (let i = 0; i < 500; i++) w.write({ ts: i, source: 'x', data: { s: `line ${i} ✓` } });
    await w.close();
    const sizes: number[] = [];
    const got: RawFrame[] = [];
    for await (const b of readCaptureBatches(path, { highWaterMark: 4096, batchBytes: 512 })) {
      sizes.push(b.length);
      got.push(...b);
    }
    expect(got.map((f) => f.ts)).toEqual([...Array(500).keys()]);
    // ~45-byte lines: a 512-byte batch holds about a dozen, not a whole 4 KiB read
    expect(Math.max(...sizes)).toBeLessThan(20);
    expect(sizes.length).toBeGreaterThan(500 / 20);
  });

  it('counts bad lines with reasons and line numbers, and keeps going', async () => {
    const path = join(dir, 'bad.jsonl');
    const good = formatCaptureLine(frames[0]!);
    writeFileSync(
      path,
      [
        good,
        'not json at all',
        '[1,2,3]',
        '{"ts":"soon","source":"a","data":1}',
        '{"ts":1,"data":1}',
        '',
        '{"ts":1,"source":"a"}',
        '{"ts":1,"source":"a","data":1,"req":{"method":"GET"}}',
        '{"ts":2,"source":"a","data":{"tru',
        good,
        // last line without a newline still counts
        formatCaptureLine(frames[1]!),
      ].join('\r\n'),
    );
    const stats = newReadStats();
    const bad: number[] = [];
    const got = await readAll(path, { stats, onBad: (b) => bad.push(b.line) });
    expect(got).toEqual([frames[0], frames[0], frames[1]]);
    expect(stats.bad).toBe(7);
    expect(stats.reasons).toEqual({
      'invalid JSON': 2,
      'not a JSON object': 1,
      'missing or non-numeric ts': 1,
      'missing source': 1,
      'missing data': 1,
      'malformed req': 1,
    });
    expect(bad).toEqual([2, 3, 4, 5, 7, 8, 9]);
    expect(stats.samples[0]).toEqual({ line: 2, reason: 'invalid JSON' });
  });

  it('parseCaptureLine accepts a frame whose data is null', () => {
    expect(parseCaptureLine('{"ts":5,"source":"s","data":null}')).toEqual({ ts: 5, source: 's', data: null });
  });

  it('appends when asked, and refuses writes after close', async () => {
    const path = join(dir, 'append.jsonl');
    const a = createCaptureWriter({ path });
    a.write(frames[0]!);
    await a.close();
    await a.close(); // idempotent
    expect(() => a.write(frames[1]!)).toThrow(/closed/);
    const b = createCaptureWriter({ path, append: true });
    b.write(frames[1]!);
    await b.close();
    expect(await readAll(path)).toEqual([frames[0], frames[1]]);
  });

  it('flushes every buffered line when the process exits without close()', () => {
    const path = join(dir, 'exit.jsonl');
    const writer = resolve('src/capture/writer.ts');
    const script = `
      const { createCaptureWriter } = await import(${JSON.stringify(writer)});
      const w = createCaptureWriter({ path: ${JSON.stringify(path)}, bufferBytes: 1 << 30, flushIntervalMs: 0 });
      for (let i = 0; i < 5000; i++) w.write({ ts: i, source: 'x', data: { i } });
      process.exit(0);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(5000);
    expect(JSON.parse(lines[4999]!)).toEqual({ ts: 4999, source: 'x', data: { i: 4999 } });
  });
});

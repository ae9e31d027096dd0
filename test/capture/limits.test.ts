/**
 * Capture limits: a line longer than the maximum is rejected with its reason and never held whole in memory (the
 * reader skips to its end across read chunks); a frame whose timestamp is outside 1970..2100 is rejected; the
 * frames around them are read as usual.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newReadStats, parseCaptureLine, readCapture } from '../../src/capture/reader.ts';

const frame = (ts: number, n: number): string =>
  JSON.stringify({ ts, source: 'polymarket.ws.market', data: { n } });

describe('capture limits', () => {
  it('rejects an over-long line and an absurd timestamp with their reasons, reading the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmarb-capture-limits-'));
    const path = join(dir, 'c.jsonl');
    const long = JSON.stringify({
      ts: 1_700_000_000_000,
      source: 'polymarket.ws.market',
      data: 'x'.repeat(5_000),
    });
    writeFileSync(
      path,
      [frame(1_700_000_000_000, 1), long, frame(1e20, 2), frame(1_700_000_000_001, 3), long].join('\n') +
        '\n',
    );
    const stats = newReadStats();
    const got: unknown[] = [];
    for await (const f of readCapture(path, { stats, maxLineBytes: 1_000, highWaterMark: 256 }))
      got.push((f.data as { n: number }).n);
    expect(got).toEqual([1, 3]);
    expect(stats.reasons).toEqual({ 'line longer than 1000 bytes': 2, 'ts outside 1970..2100': 1 });
    expect(stats.samples.map((s) => s.line)).toEqual([2, 3, 5]);
  });

  it('an over-long last line without a newline is rejected too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmarb-capture-limits-'));
    const path = join(dir, 'c.jsonl');
    writeFileSync(path, `${frame(1_700_000_000_000, 1)}\n${'y'.repeat(3_000)}`);
    const stats = newReadStats();
    const got: unknown[] = [];
    for await (const f of readCapture(path, { stats, maxLineBytes: 1_000, highWaterMark: 128 })) got.push(f);
    expect(got).toHaveLength(1);
    expect(stats.reasons).toEqual({ 'line longer than 1000 bytes': 1 });
  });

  it('a timestamp window at parse', () => {
    expect(parseCaptureLine(frame(1e20, 1))).toEqual({ error: 'ts outside 1970..2100' });
    expect(parseCaptureLine(frame(-1, 1))).toEqual({ error: 'ts outside 1970..2100' });
    expect('error' in parseCaptureLine(frame(1_700_000_000_000, 1))).toBe(false);
  });
});

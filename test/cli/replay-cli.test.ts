import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureBatches } from '../../src/capture/reader.ts';
import { replay } from '../../src/capture/replay.ts';
import { booksJson } from '../../src/cli/commands/replay.ts';
import { SimClock } from '../../src/core/clock.ts';
import { createDecoders } from '../../src/venues/registry.ts';

const BIN = resolve('bin/pm-arb.js');
const dir = mkdtempSync(join(tmpdir(), 'pmarb-cli-'));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pm-arb simulate / replay', () => {
  it('simulate writes byte-identical captures for one seed; replay --json and --books-out report them', async () => {
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    const ra = cli(['simulate', '--seed', '11', '--minutes', '2', '--out', a]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(ra.stderr).toMatch(/simulate: wrote \d+ frames/);
    expect(cli(['simulate', '--seed', '11', '--minutes', '2', '--out', b]).code).toBe(0);
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true);

    // two bad lines at the end: counted, not fatal
    appendFileSync(a, 'this is not json\n{"ts":1}\n');
    const booksOut = join(dir, 'books.json');
    const r = cli(['replay', a, '--json', '--books-out', booksOut]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      frames: number;
      events: Record<string, number>;
      rejected: { total: number; reasons: Record<string, number> };
      badLines: { total: number; reasons: Record<string, number> };
    };
    expect(summary.frames).toBeGreaterThan(1000);
    expect(summary.events.market).toBeGreaterThan(30);
    expect(summary.events.book).toBeGreaterThan(1000);
    expect(summary.badLines).toMatchObject({ total: 2, reasons: { 'invalid JSON': 1, 'missing source': 1 } });
    expect(summary.rejected).toEqual({ total: 0, reasons: {} });
    expect(summary.events.tick).toBeGreaterThan(100);

    // --books-out holds the same books an in-process replay of the file ends with
    const decoders = createDecoders({ depth: 100_000 });
    await replay({ frames: readCaptureBatches(a), clock: new SimClock(), decoders, publish: () => {} });
    const expected = booksJson(decoders.books());
    const got = JSON.parse(readFileSync(booksOut, 'utf8')) as typeof expected;
    expect(got).toEqual(expected);
    const keys = Object.keys(got);
    expect(keys.some((k) => k.startsWith('polymarket:'))).toBe(true);
    expect(keys.some((k) => /^kalshi:KX(BTC|ETH)D-.*:(yes|no)$/.test(k))).toBe(true);
    const one = got[keys[0]!]!;
    expect(one.bids.every(([p, s]) => /^0\.\d+$/.test(p) && /^\d+(\.\d+)?$/.test(s))).toBe(true);
    // best first: bids descending, asks ascending
    const prices = one.bids.map(([p]) => Number(p));
    expect([...prices].sort((x, y) => y - x)).toEqual(prices);
  });

  it('replay of a hand-made capture prints readable counts; a missing file is an error', () => {
    const f = join(dir, 'tiny.jsonl');
    appendFileSync(
      f,
      `${JSON.stringify({ ts: 1, source: 'kalshi.ws', data: { type: 'orderbook_snapshot', sid: 1, seq: 1, msg: { market_ticker: 'KX-A', market_id: 'x', yes_dollars_fp: [['0.4000', '10.00']] } } })}\n`,
    );
    const r = cli(['replay', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replayed 1 frames .* book 2/);
    const missing = cli(['replay', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.jsonl: no such file or directory/);
  });

  it('usage errors exit 2 with a message', () => {
    const r = cli(['simulate', '--minutes', 'ten', '--out', join(dir, 'x.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--minutes must be a number/);
  });
});

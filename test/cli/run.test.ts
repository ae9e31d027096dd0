import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { newReadStats, readCapture } from '../../src/capture/reader.ts';
import { replay } from '../../src/capture/replay.ts';
import { SimClock } from '../../src/core/clock.ts';
import { openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { readSystemState, writeSystemState } from '../../src/store/system-state.ts';
import { createDecoders } from '../../src/venues/registry.ts';
import { pmArbHere } from '../helpers/cli.ts';

const BIN = resolve('bin/pm-arb.js');
const dir = mkdtempSync(join(tmpdir(), 'pmarb-run-'));

interface Proc {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// each case spawns a whole system; on a busy two-core machine one can take most of a minute to start and stop
vi.setConfig({ testTimeout: 90_000 });

/** Spawns the CLI; sends SIGINT `interruptAfterMs` after stderr matches `interruptOn` (if given). */
function run(
  args: string[],
  interruptOn?: RegExp,
  extraEnv: Record<string, string> = {},
  interruptAfterMs = 700,
): Promise<Proc> {
  return new Promise((done, fail) => {
    const env = {
      ...process.env,
      LOG_LEVEL: 'silent',
      DATA_DIR: join(dir, 'data'),
      DASHBOARD_PORT: '0',
      ...extraEnv,
    };
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (interruptOn && !sent && interruptOn.test(stderr)) {
        sent = true;
        // by default let some frames flow first
        setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
      }
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 80_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      done({ code, signal, stdout, stderr });
    });
  });
}

describe('pm-arb run', () => {
  it('starts every agent on the simulated feeds, prints the banner, and stops cleanly after --duration', async () => {
    // the in-process bus reads no Redis settings: a bad REDIS_URL does not stop the demo
    const r = await run(['run', '--feeds', 'sim', '--seed', '3', '--duration', '1500ms'], undefined, {
      REDIS_URL: 'not-a-url',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pm-arb run: starting \(paper trading, feeds sim\); Ctrl-C to stop/);
    expect(r.stderr).toMatch(/pm-arb run: mode paper, feeds sim \(seed 3\), bus inproc\n/);
    expect(r.stderr).toMatch(/pm-arb run: store PGlite/);
    // not a terminal: one summary line per interval, then the closing summary in full
    expect(r.stderr).toMatch(/\[\d\d:\d\d:\d\dZ up 0:0\d\] events \d+/);
    expect(r.stderr).toMatch(/pm-arb · paper · sim seed 3 · up/);
    expect(r.stderr).toMatch(/P&L \(fills\): sniper/);
    expect(r.stderr).toMatch(
      /venue-watcher-polymarket, venue-watcher-kalshi, oracle-binance, oracle-chainlink/,
    );
    expect(r.stderr).toMatch(/duration 1500ms reached, stopping agents/);
    expect(r.stderr).toMatch(/pm-arb run: stopped/);
  });

  it('stops gracefully on SIGINT', async () => {
    const r = await run(['run'], /pm-arb run: mode/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/SIGINT received, stopping agents/);
    expect(r.stderr).toMatch(/pm-arb run: stopped/);
  });

  it('a SIGINT while the agents are starting still stops them in order, exit 0', async () => {
    const r = await run(['run'], /pm-arb run: mode/, {}, 0);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/SIGINT received/);
    expect(r.stderr).toMatch(/pm-arb run: stopped/);
  });

  it('restores from the store after a restart: a halt in force comes back', async () => {
    const dataDir = join(dir, 'restore-data');
    const db = await openDb({ dataDir: join(dataDir, 'pglite') });
    await migrate(db);
    await writeSystemState(db, { halted: true, haltReason: 'operator test', haltedBy: 'test', haltedAt: 1 });
    await db.close();
    const r = await run(['run', '--duration', '2s'], undefined, { DATA_DIR: dataDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/store PGlite \([^)]*restore-data\) \(restored 0 fills, HALTED\)/);
    const after = await openDb({ dataDir: join(dataDir, 'pglite') });
    const state = await readSystemState(after);
    await after.close();
    expect(state.halted).toBe(true);
    expect(state.haltReason).toBe('operator test');
  });

  it('refuses live trading unless asked twice, and on simulated feeds', async () => {
    // refused before anything starts: the CLI in this process
    const env = { DATA_DIR: join(dir, 'data'), DASHBOARD_PORT: '0' };
    const once = await pmArbHere(['run', '--live'], env);
    expect(once.code).toBe(2);
    expect(once.stderr).toMatch(/--live also needs PAPER_TRADING=false/);
    const config = await pmArbHere(['run'], { ...env, PAPER_TRADING: 'false' });
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/PAPER_TRADING=false turns paper trading off, which also needs --live/);
    // the value the user wrote is the one named
    const no = await pmArbHere(['run'], { ...env, PAPER_TRADING: 'no' });
    expect(no.stderr).toMatch(/^pm-arb: PAPER_TRADING=no turns paper trading off/);
    const twice = await pmArbHere(['run', '--live'], { ...env, PAPER_TRADING: 'false' });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/--live trades on the real venues: it needs --feeds live/);
  });

  it('rejects a bad --feeds value with a usage error', async () => {
    const r = await run(['run', '--feeds', 'mars']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--feeds must be sim or live/);
  });
});

describe('pm-arb record', () => {
  it('records the simulated feeds until SIGINT with every line complete, and the recording replays', async () => {
    const out = join(dir, 'rec.jsonl');
    const r = await run(['record', '--feeds', 'sim', '--out', out], /record: recording/);
    expect(r.code, r.stderr).toBe(0);
    const m = /record: stopped by SIGINT; wrote (\d+) frames/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const text = readFileSync(out, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBe(Number(m![1]));
    expect(lines.length).toBeGreaterThan(10);
    const stats = newReadStats();
    const decoders = createDecoders();
    const result = await replay({
      frames: readCapture(out, { stats }),
      clock: new SimClock(),
      decoders,
      publish: () => {},
    });
    expect(stats.bad).toBe(0);
    expect(result.events.market).toBeGreaterThan(0);
    expect(result.events.book).toBeGreaterThan(0);
  });

  it('stops after --duration', async () => {
    const out = join(dir, 'rec2.jsonl');
    const r = await run([
      'record',
      '--feeds',
      'sim',
      '--venues',
      'kalshi,binance',
      '--duration',
      '1s',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/record: duration 1s reached; wrote \d+ frames/);
    const sources = new Set(
      readFileSync(out, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { source: string }).source),
    );
    expect([...sources].sort()).toEqual([
      'sim.binance.ws',
      'sim.kalshi.rest.events',
      'sim.kalshi.rest.markets',
      'sim.kalshi.rest.series',
      'sim.kalshi.ws',
    ]);
  });
});

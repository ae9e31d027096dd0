/**
 * `pm-arb run --shadow` refusals, as the real command: shadow mode sends nothing, so it cannot be combined with
 * --live; it shadows live trading, so it needs --feeds live; and it signs with the live credentials, so with none
 * set it says which to set. (What shadow mode does with an order: test/execution/live/shadow-execution.test.ts.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 120_000 });

const BIN = resolve('bin/pm-arb.js');
const dir = mkdtempSync(join(tmpdir(), 'pmarb-shadow-cli-'));

function pmArb(args: string[], extra: Record<string, string>): Promise<{ code: number; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', DATA_DIR: dir, ...extra };
  for (const k of ['POLYMARKET_PRIVATE_KEY', 'KALSHI_API_KEY_ID', 'KALSHI_PRIVATE_KEY_PATH', 'PAPER_TRADING'])
    if (!(k in extra)) delete env[k];
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (e, _out, err) =>
      done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, err }),
    );
  });
}

describe('pm-arb run --shadow', () => {
  it('refuses with --live, without --feeds live, and with no credentials to sign with (exit 2)', async () => {
    const [withLive, simFeeds, noKeys] = await Promise.all([
      pmArb(['run', '--feeds', 'live', '--shadow', '--live', '--yes', '--no-store'], {
        PAPER_TRADING: 'false',
      }),
      pmArb(['run', '--feeds', 'sim', '--shadow', '--no-store'], {}),
      pmArb(['run', '--feeds', 'live', '--shadow', '--no-store', '--only', 'none'], {}),
    ]);
    expect(withLive.code).toBe(2);
    expect(withLive.err).toMatch(/--shadow sends no order: it cannot be combined with --live/);
    expect(simFeeds.code).toBe(2);
    expect(simFeeds.err).toMatch(/--shadow shadows live trading: it needs --feeds live/);
    expect(noKeys.code).toBe(2);
    expect(noKeys.err).toMatch(/--shadow signs orders with the live credentials; none is set/);
    expect(noKeys.err).toContain('polymarket: set POLYMARKET_PRIVATE_KEY');
  });
});

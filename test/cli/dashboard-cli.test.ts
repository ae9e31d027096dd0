/**
 * The dashboard from the command line: `pm-arb run` serves it and prints where (and where the control token is,
 * never the token); `--no-dashboard` turns it off; `pm-arb dashboard` serves a shared PostgreSQL store with live
 * updates over Redis; an exposed address without DASHBOARD_TOKEN and a taken port are refused with what to do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.ts';
import { TEST_PG_URL, testSchema } from '../store/pg.ts';

const BIN = resolve('bin/pm-arb.js');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const dir = mkdtempSync(join(tmpdir(), 'pmarb-dash-cli-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (and everything printed) once the process ends. */
  readonly done: Promise<{ code: number | null; stderr: string }>;
}

function start(args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; stderr: string }>((ok) => {
    child.on('close', (code) => ok({ code, stderr: err }));
  });
  return { child, stderr: () => err, done };
}

async function waitFor(s: Started, re: RegExp, ms = 90_000): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(s.stderr());
    if (m) return m;
    if (s.child.exitCode !== null || Date.now() > end) throw new Error(`no ${re} in:\n${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('pm-arb run serves the dashboard', () => {
  it('prints the address and where the token is; the pages and the API answer while it runs', async () => {
    const dataDir = join(dir, 'run');
    const s = start(['run', '--duration', '60s'], { DATA_DIR: dataDir, DASHBOARD_PORT: '0' });
    const url = (await waitFor(s, /pm-arb run: dashboard: (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    await waitFor(s, /pm-arb run: control token: in .*control-token/);
    const token = readFileSync(join(dataDir, 'control-token'), 'utf8').trim();
    expect(s.stderr()).not.toContain(token);
    const status = (await (await fetch(`${url}/api/status`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ role: 'run', feeds: 'sim', transport: 'inproc', live: true });
    const page = await fetch(`${url}/risk`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Halt trading');
    const denied = await fetch(`${url}/api/control/halt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'no token' }),
    });
    expect(denied.status).toBe(401);
    // the process's health and metrics answer on the same port
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);
    s.child.kill('SIGINT');
    const r = await s.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pm-arb run: stopped/);
  }, 150_000);

  it('--no-dashboard serves nothing and says so', async () => {
    const s = start(['run', '--no-dashboard', '--no-store', '--duration', '1s'], {
      DATA_DIR: join(dir, 'off'),
    });
    const r = await s.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pm-arb run: dashboard: off \(--no-dashboard\)/);
  }, 60_000);

  it('a taken port stops the start with what to do (exit 1)', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as { port: number }).port;
    try {
      const s = start(['run', '--no-store', '--duration', '5s'], {
        DATA_DIR: join(dir, 'busy'),
        DASHBOARD_PORT: String(port),
      });
      const r = await s.done;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the dashboard cannot listen on 127.0.0.1:${port}: the port is taken`);
      expect(r.stderr).toContain(
        'Set DASHBOARD_PORT to a free port (DASHBOARD_PORT=0 picks one), or run with --no-dashboard.',
      );
    } finally {
      blocker.close();
    }
  }, 60_000);
});

describe('pm-arb dashboard (standalone)', () => {
  it('reads PostgreSQL, listens on Redis, and stops on SIGINT', async () => {
    const schema = testSchema('dashcli');
    const db = await openDb({ url: TEST_PG_URL, schema });
    await db.close();
    const s = start(['dashboard', '--port', '0'], {
      DATA_DIR: join(dir, 'standalone'),
      DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      REDIS_URL,
      REDIS_KEY_PREFIX: `test:dashcli:${randomBytes(4).toString('hex')}:`,
    });
    const url = (await waitFor(s, /pm-arb dashboard: dashboard: (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    expect(s.stderr()).toMatch(/bus Redis \(REDIS_URL\): live updates and controls/);
    const status = (await (await fetch(`${url}/api/status`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      role: 'dashboard',
      transport: 'redis',
      live: true,
      halt: { halted: false },
    });
    expect(String(status.store)).toContain('PostgreSQL');
    expect((await fetch(`${url}/api/opportunities`)).status).toBe(200);
    s.child.kill('SIGINT');
    const r = await s.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pm-arb dashboard: stopped/);
    const cleanup = await openDb({ url: TEST_PG_URL });
    await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
    await cleanup.close();
  }, 120_000);

  it('refuses an exposed address without DASHBOARD_TOKEN (exit 2), and a bad --port', async () => {
    const exposed = await start(['dashboard', '--host', '0.0.0.0', '--port', '0'], {
      DATA_DIR: join(dir, 'exposed'),
    }).done;
    expect(exposed.code).toBe(2);
    expect(exposed.stderr).toContain('refusing to serve the dashboard on 0.0.0.0 without DASHBOARD_TOKEN');
    const bad = await start(['dashboard', '--port', 'http'], { DATA_DIR: join(dir, 'exposed') }).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a TCP port from 0 to 65535, got "http"');
  }, 120_000);
});

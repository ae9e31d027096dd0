/**
 * The server on a real socket: the control token file (generated, private, reused, never printed), the endpoint
 * file the CLI reads, a clear message when the port is taken, and route groups added by other modules (health
 * probes served without a token).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { SystemCommand } from '../../src/core/messages.ts';
import { connectProcess, ProcessCallError } from '../../src/dashboard/client.ts';
import type { RouteGroup } from '../../src/dashboard/context.ts';
import { readControlToken, resolveControlToken } from '../../src/dashboard/security.ts';
import {
  createDashboard,
  DashboardListenError,
  ENDPOINT_FILE,
  startDashboard,
} from '../../src/dashboard/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmarb-dash-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('control token', () => {
  it('is generated into DATA_DIR/control-token with mode 0600, reused by the next process, and readable by the CLI', () => {
    const dataDir = join(dir, 'tok');
    const a = resolveControlToken({ configured: undefined, dataDir });
    expect(a.source).toBe('file');
    expect(a.path).toBe(join(dataDir, 'control-token'));
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(a.path!).mode & 0o777).toBe(0o600);
    const b = resolveControlToken({ configured: undefined, dataDir });
    expect(b.token).toBe(a.token);
    expect(readControlToken({ configured: undefined, dataDir })).toBe(a.token);
  });

  it('a token file others can read is replaced, and CONTROL_TOKEN wins over the file', () => {
    const dataDir = join(dir, 'tok2');
    const first = resolveControlToken({ configured: undefined, dataDir });
    writeFileSync(first.path!, 'x'.repeat(40));
    chmodSync(first.path!, 0o644);
    const again = resolveControlToken({ configured: undefined, dataDir });
    expect(again.token).not.toBe('x'.repeat(40));
    expect(statSync(again.path!).mode & 0o777).toBe(0o600);
    expect(resolveControlToken({ configured: 'from-env-0123456789', dataDir })).toEqual({
      token: 'from-env-0123456789',
      source: 'CONTROL_TOKEN',
    });
  });
});

describe('listening', () => {
  it('serves on a free port, says where the token is (never the token), advertises the endpoint and cleans up', async () => {
    const dataDir = join(dir, 'serve');
    const health: RouteGroup = {
      name: 'health',
      publicPaths: ['/healthz'],
      mount(app) {
        app.get('/healthz', (c) => c.json({ ok: true }));
      },
    };
    const d = await startDashboard({
      config: loadConfig({
        DATA_DIR: dataDir,
        DASHBOARD_PORT: '0',
        DASHBOARD_TOKEN: 'a-read-token-0123456789',
      }),
      clock: wallClock(),
      role: 'dashboard',
      instance: 'test',
      routes: [health],
    });
    const only = createDashboard({
      config: loadConfig({ DATA_DIR: dataDir }),
      clock: wallClock(),
      role: 'run',
      instance: 'only',
      builtins: ['control-api'],
      routes: [health],
    });
    expect((await only.app.request('/healthz')).status).toBe(200);
    expect((await only.app.request('/api/status')).status).toBe(404);
    expect((await only.app.request('/')).status).toBe(404);
    expect((await only.app.request('/api/control/whoami')).status).toBe(401);
    await only.close();
    try {
      expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const token = readFileSync(join(dataDir, 'control-token'), 'utf8').trim();
      expect(d.banner.join('\n')).toContain(`control token: in ${join(dataDir, 'control-token')}`);
      expect(d.banner.join('\n')).not.toContain(token);
      expect(JSON.parse(readFileSync(join(dataDir, ENDPOINT_FILE), 'utf8'))).toMatchObject({
        url: d.url,
        pid: process.pid,
        role: 'dashboard',
      });
      // the added group is served, without a token since it says so; everything else needs the read token
      expect(await (await fetch(`${d.url}/healthz`)).json()).toEqual({ ok: true });
      expect((await fetch(`${d.url}/api/status`)).status).toBe(401);
      const ok = await fetch(`${d.url}/api/status`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      // no store in this process: the data routes say so
      const p = await fetch(`${d.url}/api/portfolio`, { headers: { authorization: `Bearer ${token}` } });
      expect(p.status).toBe(503);
    } finally {
      await d.stop();
    }
    expect(() => statSync(join(dataDir, ENDPOINT_FILE))).toThrow();
  });

  it('the CLI reaches the running process through the advertised endpoint and the token file', async () => {
    const dataDir = join(dir, 'client');
    const config = loadConfig({ DATA_DIR: dataDir, DASHBOARD_PORT: '0' });
    expect(connectProcess(config)).toBeNull();
    const bus = createInProcBus({ name: 'client' });
    const sent: SystemCommand[] = [];
    bus.subscribe(channels.system, { group: 'test' }, (m) => {
      sent.push(m.body);
    });
    const d = await startDashboard({ config, clock: wallClock(), bus, role: 'run', instance: 'client' });
    try {
      const p = connectProcess(config)!;
      expect(p.url).toBe(d.url);
      expect(await p.get('/api/status')).toMatchObject({ role: 'run', transport: 'inproc' });
      const r = await p.post('/api/control/halt', { reason: 'from the CLI', actor: 'ops' });
      expect(r).toMatchObject({ ok: true });
      await bus.idle();
      expect(sent).toEqual([
        expect.objectContaining({ command: 'HALT_ALL', issuedBy: 'api:ops', reason: 'from the CLI' }),
      ]);
      const bad = await p.get('/api/fills', { limit: 0 }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(ProcessCallError);
      expect((bad as ProcessCallError).status).toBe(400);
    } finally {
      await d.stop();
      await bus.close();
    }
    expect(connectProcess(config)).toBeNull();
    // an endpoint file left by a process that is gone is ignored
    writeFileSync(
      join(dataDir, ENDPOINT_FILE),
      JSON.stringify({ url: 'http://127.0.0.1:1', pid: 2 ** 22 + 12345 }),
    );
    expect(connectProcess(config)).toBeNull();
  });

  it('a port in use is reported with what to do', async () => {
    const config = loadConfig({ DATA_DIR: join(dir, 'busy'), DASHBOARD_PORT: '0' });
    const first = createDashboard({ config, clock: wallClock(), role: 'run', instance: 'a' });
    const running = await first.listen();
    try {
      const second = createDashboard({
        config,
        clock: wallClock(),
        role: 'run',
        instance: 'b',
        port: running.port,
      });
      const err = await second.listen().then(
        () => undefined,
        (e: unknown) => e,
      );
      await second.close();
      expect(err).toBeInstanceOf(DashboardListenError);
      expect((err as Error).message).toBe(
        `the dashboard cannot listen on 127.0.0.1:${running.port}: the port is taken (another pm-arb run?). ` +
          'Set DASHBOARD_PORT to a free port (DASHBOARD_PORT=0 picks one), or run with --no-dashboard.',
      );
    } finally {
      await running.close();
    }
  });
});

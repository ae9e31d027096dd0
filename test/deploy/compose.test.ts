/**
 * The deployment files, without a Docker engine: compose.yaml is read with the `yaml` package and every service
 * built from our image is started as a local process with its own command and environment — against the local
 * Redis (a key prefix of its own) and PostgreSQL (a fresh schema) instead of the `redis` and `postgres`
 * containers, on the simulated market (PMARB_FEEDS=sim), in the order its depends_on conditions give. Then: the
 * one-shot migration exits 0, every agent answers /healthz and /readyz and heartbeats `running` on the health
 * channel, the container health check script passes, trading flows end to end (fills reach PostgreSQL), and
 * every process stops cleanly (exit 0) on SIGTERM. The Railway files start the same commands; the Dockerfile
 * keeps what the image needs.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli/main.ts';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import { channels } from '../../src/core/channels.ts';
import { CONFIG_KEYS } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { startFakeWebhook } from '../fakes/pushover-server.ts';
import { freePort } from '../helpers/net.ts';
import { TEST_PG_URL, testSchema } from '../store/pg.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * Services whose command does not exist on this branch yet. The coordinator empties this list once the dashboard
 * (`pm-arb dashboard`) is merged; the last test fails as soon as the command exists and the entry is still here.
 */
const PENDING: readonly string[] = [];
/** What a compose deployment runs as containers of other images; here the machine's own servers stand in. */
const VARS: Record<string, string> = {
  PMARB_FEEDS: 'sim',
  POSTGRES_PASSWORD: 'unused-here',
  DASHBOARD_TOKEN: 'compose-test-read-token-0123456789',
};

interface Dep {
  condition?: 'service_started' | 'service_healthy' | 'service_completed_successfully';
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, Dep> | string[];
  healthcheck?: { disable?: boolean; test?: string[] };
  restart?: string;
}

const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const ours = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
const infra = new Set(Object.keys(compose.services).filter((n) => compose.services[n]!.build === undefined));

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` interpolation. */
const interpolate = (v: string): string =>
  v.replace(/\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}/g, (_, k: string, op?: string, arg?: string) => {
    const value = VARS[k] ?? process.env[k];
    if (value) return value;
    if (op === ':?') throw new Error(`compose.yaml needs ${k}: ${arg}`);
    return arg ?? '';
  });

const deps = (s: Service): [string, Dep['condition']][] =>
  Array.isArray(s.depends_on)
    ? s.depends_on.map((d) => [d, 'service_started'])
    : Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, c.condition ?? 'service_started']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(
  what: string,
  cond: () => Promise<boolean> | boolean,
  ms: number,
  why?: () => string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${why ? `\n${why()}` : ''}`);
    await sleep(250);
  }
}

interface Proc {
  name: string;
  child: ChildProcess;
  port: number;
  log: string[];
  exit: Promise<number | null>;
  code?: number | null;
}

async function get(port: number, path: string): Promise<number> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3_000) });
    await r.text();
    return r.status;
  } catch {
    return 0;
  }
}

describe('compose.yaml topology, as local processes', () => {
  const prefix = `compose-${randomUUID()}:`;
  const schema = testSchema('compose');
  const dir = mkdtempSync(join(tmpdir(), 'pmarb-compose-'));
  const procs = new Map<string, Proc>();
  let db: Db | undefined;
  let hook: Awaited<ReturnType<typeof startFakeWebhook>> | undefined;

  afterAll(async () => {
    await hook?.close();
    for (const p of procs.values()) if (p.code === undefined) p.child.kill('SIGKILL');
    await db?.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(name: string, s: Service, port: number): Proc {
    // the machine's own settings stay out: only what compose gives the service, with the stand-ins
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONFIG_KEYS.includes(k)));
    const env: Record<string, string> = { ...(base as Record<string, string>) };
    for (const [k, v] of Object.entries(s.environment ?? {})) env[k] = interpolate(String(v));
    Object.assign(env, {
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      DATA_DIR: join(dir, name),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(port),
      // the dashboard's own server carries its health (as in its container, where DASHBOARD_PORT is checked)
      ...(name === 'dashboard' ? { DASHBOARD_PORT: String(port) } : {}),
      LOG_LEVEL: 'warn',
      // the alerts service reports to a local fake webhook
      ALERT_WEBHOOK_URL: hook!.url,
    });
    const args = (s.command ?? []).map(interpolate);
    const child = spawn(process.execPath, ['bin/pm-arb.js', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    const keep = (b: Buffer) => {
      log.push(b.toString());
      if (log.length > 200) log.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const p: Proc = {
      name,
      child,
      port,
      log,
      exit: new Promise((resolve) =>
        child.once('exit', (code) => {
          p.code = code;
          resolve(code);
        }),
      ),
    };
    procs.set(name, p);
    return p;
  }

  const logs = () =>
    [...procs.values()]
      .map((p) => `--- ${p.name} (exit ${p.code ?? 'running'}):\n${p.log.join('').slice(-1500)}`)
      .join('\n');

  it('every service starts in depends_on order, reports healthy, trades end to end and stops cleanly', async () => {
    db = await openDb({ url: TEST_PG_URL, schema }); // a fresh schema: the migrate service fills it
    hook = await startFakeWebhook();
    const toStart = ours.filter(([n]) => !PENDING.includes(n));
    const ports = new Map<string, number>();
    for (const [n] of toStart) ports.set(n, await freePort());
    const healthy = async (n: string) => (await get(ports.get(n)!, '/healthz')) === 200;
    const ready = async (dep: string, cond: Dep['condition']): Promise<boolean> => {
      if (infra.has(dep)) return true;
      const p = procs.get(dep);
      if (!p) return false;
      if (cond === 'service_completed_successfully') return p.code === 0;
      if (cond === 'service_healthy') return healthy(dep);
      return true;
    };
    // start each service once what it depends on is there, as compose would
    const waiting = new Map(toStart);
    while (waiting.size > 0) {
      let started = 0;
      for (const [n, s] of [...waiting]) {
        const want = deps(s);
        for (const [d] of want) expect(compose.services[d], `${n} depends on unknown ${d}`).toBeDefined();
        if (want.some(([d]) => PENDING.includes(d))) throw new Error(`${n} depends on a pending service`);
        let ok = true;
        for (const [d, c] of want) if (!(await ready(d, c))) ok = false;
        if (!ok) continue;
        start(n, s, ports.get(n)!);
        waiting.delete(n);
        started++;
      }
      for (const p of procs.values())
        if (p.code !== undefined && p.code !== 0)
          throw new Error(`${p.name} exited with ${p.code}\n${logs()}`);
      if (started === 0) await sleep(250);
    }
    expect(procs.get('migrate')?.code ?? (await procs.get('migrate')?.exit)).toBe(0);

    const agents = toStart.filter(([, s]) => s.restart !== 'no').map(([n]) => n);
    await until(
      'every agent healthy and ready',
      async () => {
        for (const n of agents) if ((await get(ports.get(n)!, '/readyz')) !== 200) return false;
        return true;
      },
      180_000,
      logs,
    );
    for (const n of agents) expect(await healthy(n)).toBe(true);

    // the container health check script, as Docker runs it
    const hc = await new Promise<number>((resolve) =>
      execFile(
        process.execPath,
        ['bin/healthcheck.js'],
        { cwd: ROOT, env: { ...process.env, HEALTHCHECK_PORT: String(ports.get('executor')) } },
        (err) => resolve(err ? Number(err.code ?? 1) : 0),
      ),
    );
    expect(hc).toBe(0);

    // heartbeats on the health channel, every agent running
    const bus = await createRedisBus({
      url: REDIS_URL,
      name: 'compose-test',
      keyPrefix: prefix,
      log: silentLogger(),
    });
    try {
      const expected = [
        'persister',
        'market-matcher',
        'opportunity-scanner',
        'strategy-runner',
        'risk-guardian',
        'executor',
        'capital-allocator',
        'alerts',
        'venue-watcher-polymarket',
        'venue-watcher-kalshi',
        'oracle-binance',
        'oracle-chainlink',
      ];
      await until(
        'a running heartbeat from every agent',
        async () => {
          const hb = await bus.history(channels.health, 5_000);
          const running = new Set(hb.filter((h) => h.body.state === 'running').map((h) => h.body.agent));
          return expected.every((a) => running.has(a));
        },
        60_000,
        logs,
      );
    } finally {
      await bus.close();
    }

    // trading flows: the simulated market's mispricings become fills, and the persister stores them
    const fills = async () =>
      Number((await db!.query<{ n: string }>('SELECT count(*)::text AS n FROM fills')).rows[0]!.n);
    await until('fills in PostgreSQL', async () => (await fills()) > 0, 180_000, logs);
    const decided = await db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM risk_decisions WHERE verdict <> 'reject'",
    );
    expect(Number(decided.rows[0]!.n)).toBeGreaterThan(0);

    // a healthy deployment raises no operational alarm (trading alerts such as a large fill may come)
    const kinds = hook!.bodies.map((b) => (b.body.alert as { kind: string }).kind);
    for (const k of ['halt', 'agent_silent', 'agent_faulted', 'feed_down', 'error_burst'])
      expect(kinds).not.toContain(k);
    const logged = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM alert_settings');
    expect(Number(logged.rows[0]!.n)).toBeGreaterThan(0); // the alerts service seeded its settings

    // clean stop: feeds first, then the rest, each on SIGTERM, each exit 0
    const order = [...agents].reverse();
    for (const n of order) {
      const p = procs.get(n)!;
      p.child.kill('SIGTERM');
      const code = await Promise.race([p.exit, sleep(45_000).then(() => 'timeout' as const)]);
      expect(code, `${n} did not stop cleanly\n${p.log.join('').slice(-2000)}`).toBe(0);
    }
  }, 480_000);

  it('Railway starts the same commands, with health checks and migrations before each deploy', () => {
    const files = readdirSync(join(ROOT, 'deploy/railway')).filter((f) => f.endsWith('.json'));
    const names = ours.map(([n]) => n).filter((n) => n !== 'migrate');
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual([...names].sort());
    for (const [n, s] of ours) {
      if (n === 'migrate') continue;
      const r = JSON.parse(readFileSync(join(ROOT, 'deploy/railway', `${n}.json`), 'utf8'));
      // Railway runs the real venues: compose's feeds default
      const cmd = (s.command ?? []).map((c) => c.replace(/\$\{PMARB_FEEDS:-(\w+)\}/, '$1')).join(' ');
      expect(r.deploy.startCommand).toContain(`exec node bin/pm-arb.js ${cmd}"`);
      expect(r.deploy.preDeployCommand).toEqual(['node bin/pm-arb.js db migrate']);
      expect(r.deploy.healthcheckPath).toMatch(/^\/(healthz|readyz)$/);
      expect(r.build).toEqual({ builder: 'DOCKERFILE', dockerfilePath: 'Dockerfile' });
    }
  });

  it('the Dockerfile: multi-stage on Node 20 slim, production dependencies only, non-root, health check; tsx ships', () => {
    const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(df.match(/^FROM node:20-slim/gm)).toHaveLength(2);
    expect(df).toMatch(/npm ci --omit=dev/);
    expect(df).toMatch(/^USER node$/m);
    expect(df).toMatch(/^HEALTHCHECK .*bin\/healthcheck\.js/m);
    expect(df).toMatch(/^ENTRYPOINT \["node", "bin\/pm-arb\.js"\]$/m);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    // bin/pm-arb.js loads the sources through tsx at run time: it must survive `npm ci --omit=dev`
    expect(Object.keys(pkg.dependencies)).toContain('tsx');
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', 'data', '.git']));
    expect(compose.services.redis?.image).toMatch(/^redis:7/);
    expect(compose.services.redis?.command?.join(' ')).toContain('--appendonly yes');
    expect(compose.services.postgres?.image).toMatch(/^postgres:16/);
  });

  it('pending services are exactly the commands this branch does not have yet', async () => {
    const commands = (await buildProgram()).commands.map((c) => c.name());
    for (const n of PENDING) {
      const cmd = compose.services[n]?.command?.[0];
      expect(cmd, `${n} is pending but not in compose.yaml`).toBeDefined();
      expect(commands, `\`pm-arb ${cmd}\` exists now: remove "${n}" from PENDING in this test`).not.toContain(
        cmd,
      );
    }
  });
});

/**
 * Child processes for tests that run the system as separate OS processes: `pm-arb <args>` (CLI and agents), a
 * private redis-server on a free port (killed and restarted by the test, never the shared one), and waits on
 * conditions rather than pauses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './net.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` every `everyMs` until it holds; throws naming `what` after `timeoutMs` (a function: as it reads at
 * the deadline, e.g. with the output so far).
 */
export async function until(
  what: string | (() => string),
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    await sleep(everyMs);
  }
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it wrote so far (the last `keep` characters). */
  out(): string;
  err(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  alive(): boolean;
  /** Sends `sig` and waits for the exit (SIGSTOP/SIGCONT return at once). */
  signal(sig: NodeJS.Signals): Promise<void>;
}

export interface SpawnOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Output kept per stream (default 64 KiB: the tail, for failure messages). */
  readonly keep?: number;
}

/** Any command as a child process, its output captured (the tail). */
export function spawnProc(name: string, cmd: string, args: readonly string[], o: SpawnOptions): Proc {
  const child = spawn(cmd, args, { cwd: o.cwd ?? ROOT, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = o.keep ?? 65_536;
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-keep);
  });
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-keep);
  });
  let done = false;
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      done = true;
      r(code);
    }),
  );
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  return {
    name,
    child,
    pid: child.pid,
    out: () => out,
    err: () => err,
    exited,
    alive: () => !done,
    async signal(sig) {
      if (done) return;
      child.kill(sig);
      if (sig === 'SIGSTOP' || sig === 'SIGCONT') return;
      await exited;
    },
  };
}

/** `pm-arb <args>` as its own process (bin/pm-arb.js: the build when fresh, else the sources through tsx). */
export function spawnPmArb(name: string, args: readonly string[], o: SpawnOptions): Proc {
  return spawnProc(name, process.execPath, [join(ROOT, 'bin', 'pm-arb.js'), ...args], o);
}

/** `pm-arb agent <agent> --opt k=v … --heartbeat-ms N`. */
export function spawnAgent(
  name: string,
  agent: string,
  opts: Readonly<Record<string, string>>,
  o: SpawnOptions & { heartbeatMs?: number },
): Proc {
  const args = ['agent', agent, '--heartbeat-ms', String(o.heartbeatMs ?? 1000)];
  for (const [k, v] of Object.entries(opts)) args.push('--opt', `${k}=${v}`);
  return spawnPmArb(name, args, o);
}

/** Stops whatever is still running: SIGCONT (a stopped one cannot die otherwise), then SIGKILL. */
export async function killAll(procs: Iterable<Proc>): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const p of procs) {
    if (!p.alive()) continue;
    p.child.kill('SIGCONT');
    waits.push(p.signal('SIGKILL'));
  }
  await Promise.all(waits);
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Its data directory (AOF files). */
  readonly dir: string;
  /** SIGKILL: no shutdown, no final save (the AOF has every acknowledged write: appendfsync everysec writes first). */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
  alive(): boolean;
  log(): string;
}

/**
 * A private redis-server on a free port of 127.0.0.1 with AOF on and no RDB snapshots, in a temporary directory:
 * a test may kill and restart it. Needs `redis-server` on the PATH.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pm-arb-redis-'));
  const port = await freePort();
  let proc: Proc | undefined;
  let logs = '';
  const start = async (): Promise<void> => {
    proc = spawnProc(
      'redis-server',
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--dir',
        dir,
        '--protected-mode',
        'yes',
      ],
      { env: process.env, cwd: dir },
    );
    try {
      await waitForPort(port, 20_000);
    } catch (err) {
      throw new Error(`redis-server did not start: ${(err as Error).message}\n${proc.out()}${proc.err()}`);
    }
  };
  await start();
  const stopCurrent = async (sig: NodeJS.Signals): Promise<void> => {
    if (!proc) return;
    const p = proc;
    proc = undefined;
    await p.signal(sig);
    logs += p.out() + p.err();
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill: () => stopCurrent('SIGKILL'),
    start,
    async close() {
      await stopCurrent('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    alive: () => proc?.alive() ?? false,
    log: () => logs + (proc ? proc.out() + proc.err() : ''),
  };
}

/**
 * `pm-arb status [--json]`: the agents seen on the health channel (its retained history on the Redis bus), each
 * with its state and the age of its last heartbeat.
 */
import type { Command } from 'commander';
import { channels } from '../../core/channels.ts';
import type { Heartbeat } from '../../core/messages.ts';
import { UsageError } from '../main.ts';
import { withRedisKernel } from './control.ts';

export interface AgentStatus {
  readonly agent: string;
  readonly instance: string;
  readonly state: Heartbeat['state'];
  readonly pid: number;
  readonly host: string;
  /** ms since the last heartbeat */
  readonly ageMs: number;
  /** no heartbeat for longer than --stale-ms */
  readonly stale: boolean;
  readonly details: Heartbeat['details'];
}

/** The latest heartbeat of each agent instance, sorted by agent then instance. */
export function summarise(beats: readonly Heartbeat[], now: number, staleMs: number): AgentStatus[] {
  const latest = new Map<string, Heartbeat>();
  for (const b of beats) {
    const k = `${b.agent}\u0000${b.instance}`;
    const prev = latest.get(k);
    if (!prev || b.ts >= prev.ts) latest.set(k, b);
  }
  return [...latest.values()]
    .map((b) => ({
      agent: b.agent,
      instance: b.instance,
      state: b.state,
      pid: b.pid,
      host: b.host,
      ageMs: Math.max(0, now - b.ts),
      stale: now - b.ts > staleMs,
      details: b.details,
    }))
    .sort((a, b) => a.agent.localeCompare(b.agent) || a.instance.localeCompare(b.instance));
}

function age(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

function table(rows: readonly AgentStatus[]): string {
  if (rows.length === 0)
    return 'no agents seen on the health channel (is anything running on this REDIS_URL?)\n';
  const head = ['AGENT', 'INSTANCE', 'STATE', 'LAST HEARTBEAT', 'PID', 'PROCESSED', 'FAILED'];
  const body = rows.map((r) => [
    r.agent,
    r.instance,
    r.state,
    `${age(r.ageMs)} ago${r.stale ? ' (stale)' : ''}`,
    String(r.pid),
    String(r.details.processed ?? ''),
    String(r.details.failed ?? ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[fmt(head), ...body.map(fmt)].join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('agents seen on the health channel, with state and last heartbeat age (needs REDIS_URL)')
    .option('--json', 'print JSON')
    .option('--stale-ms <ms>', 'a heartbeat older than this is marked stale', '15000')
    .option('--limit <n>', 'heartbeats read from the health channel history', '5000')
    .action(async (opts: { json?: boolean; staleMs: string; limit: string }) => {
      const staleMs = Number(opts.staleMs);
      const limit = Number(opts.limit);
      if (!Number.isInteger(staleMs) || staleMs <= 0) {
        throw new UsageError(
          `--stale-ms ${JSON.stringify(opts.staleMs)}: expected a positive whole number of ms`,
        );
      }
      if (!Number.isInteger(limit) || limit <= 0) {
        throw new UsageError(`--limit ${JSON.stringify(opts.limit)}: expected a positive whole number`);
      }
      const rows = await withRedisKernel('pm-arb status', async (k) => {
        const beats = await k.bus.history(channels.health, limit);
        return summarise(
          beats.map((e) => e.body),
          k.clock.now(),
          staleMs,
        );
      });
      process.stdout.write(opts.json ? `${JSON.stringify({ agents: rows })}\n` : table(rows));
    });
}

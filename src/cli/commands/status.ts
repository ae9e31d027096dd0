/**
 * `pm-arb status [--json]`: the agents seen on the health channel (its retained history on the Redis bus), each
 * with its state and the age of its last heartbeat; and the capital allocator's last round — each strategy's
 * allocation with its inputs and the one-line reason.
 */
import type { Command } from 'commander';
import { channels } from '../../core/channels.ts';
import type { Allocation, AllocationExplanation, Heartbeat } from '../../core/messages.ts';
import { toDecimal } from '../../core/money.ts';
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

/** Money fields of an allocation explanation: micro-dollars on the bus, dollar decimal strings in status. */
type MoneyKey = 'allocation' | 'pnl' | 'windowPnl' | 'drawdown' | 'target';

export interface AllocationStatus {
  readonly ts: number;
  readonly ageMs: number;
  /**
   * One row per strategy: its capital and, once a round has scored it, the inputs and why. Money (allocation,
   * pnl, windowPnl, drawdown, target) in dollars as exact decimal strings, like the allocation itself.
   */
  readonly strategies: readonly ({
    readonly strategy: string;
    readonly allocation: string;
  } & Partial<Omit<AllocationExplanation, MoneyKey> & Record<Exclude<MoneyKey, 'allocation'>, string>>)[];
}

/** The latest allocation round, as status shows it. */
export function allocationStatus(a: Allocation | undefined, now: number): AllocationStatus | null {
  if (!a) return null;
  return {
    ts: a.ts,
    ageMs: Math.max(0, now - a.ts),
    strategies: Object.keys(a.allocations)
      .sort()
      .map((strategy) => {
        const why = a.explanations?.[strategy];
        const allocation = toDecimal(a.allocations[strategy]!);
        if (!why) return { strategy, allocation };
        const { allocation: _, pnl, windowPnl, drawdown, target, ...rest } = why;
        return {
          strategy,
          allocation,
          pnl: toDecimal(pnl),
          windowPnl: toDecimal(windowPnl),
          drawdown: toDecimal(drawdown),
          target: toDecimal(target),
          ...rest,
        };
      }),
  };
}

function allocationTable(a: AllocationStatus | null): string {
  if (!a) return '\nno allocation round seen on the allocations channel yet\n';
  const rows = a.strategies.map(
    (s) => `  ${s.strategy}  $${s.allocation}  ${s.reason ?? '(not scored yet)'}`,
  );
  return `\nALLOCATION (last round ${age(a.ageMs)} ago)\n${rows.join('\n')}\n`;
}

/** Heartbeat details that are micro-dollars: JSON shows them as exact decimal strings named in dollars. */
const MONEY_DETAILS = ['equity', 'cash', 'exposure', 'realizedPnl', 'unrealizedPnl'];

export function detailsWithUnits(d: Heartbeat['details']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    if (MONEY_DETAILS.includes(k) && typeof v === 'number' && Number.isInteger(v))
      out[`${k}_usd`] = toDecimal(v);
    else out[k] = v;
  }
  return out;
}

/** Agents that run now: not stopped, heartbeat fresh. */
export const isLive = (r: AgentStatus): boolean => r.state !== 'stopped' && !r.stale;

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
    .description(
      'agents seen on the health channel (state, last heartbeat age) and the last allocation with its reasons (needs REDIS_URL)',
    )
    .option('--json', 'print JSON (money in fields ending in _usd, as exact decimal strings)')
    .option('--all', 'also the agents that stopped or whose heartbeat is stale')
    .option('--stale-ms <ms>', 'a heartbeat older than this is marked stale', '15000')
    .option('--limit <n>', 'heartbeats read from the health channel history', '5000')
    .action(async (opts: { json?: boolean; all?: boolean; staleMs: string; limit: string }) => {
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
      const { rows, allocation } = await withRedisKernel('pm-arb status', async (k) => {
        const beats = await k.bus.history(channels.health, limit);
        const last = await k.bus.history(channels.allocations, 1);
        return {
          rows: summarise(
            beats.map((e) => e.body),
            k.clock.now(),
            staleMs,
          ),
          allocation: allocationStatus(last.at(-1)?.body, k.clock.now()),
        };
      });
      const shown = opts.all ? rows : rows.filter(isLive);
      const hidden = rows.length - shown.length;
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({
              agents: shown.map((r) => ({ ...r, details: detailsWithUnits(r.details) })),
              hidden,
              allocation,
            })}\n`
          : table(shown) +
              (hidden > 0
                ? `(${hidden} stopped or stale agent instances not shown; --all shows them)\n`
                : '') +
              allocationTable(allocation),
      );
    });
}

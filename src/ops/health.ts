/**
 * Health of one process, framework-neutral: `/healthz` (liveness: the process answers and no agent is faulted)
 * and `/readyz` (readiness: every agent started and not stopped or faulted, and the bus takes writes), plus
 * `/metrics`. `opsRoutes()` returns the three handlers as plain functions returning status, headers and body,
 * so the same handlers serve from the small node:http server here (`pm-arb agent`) and from the dashboard's web
 * server in `pm-arb run` (mount each path with GET and send what the handler returns).
 */
import type { Bus } from '../core/bus/types.ts';
import type { AgentState } from '../core/messages.ts';
import type { OpsMetrics } from './metrics.ts';

export interface OpsResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type OpsHandler = () => Promise<OpsResponse>;

/** What health reads: the agents of the process (name and state) and, optionally, its bus. */
export interface HealthSource {
  agents(): readonly { readonly name: string; readonly state: AgentState }[];
  readonly bus?: Pick<Bus, 'flush'>;
  /** How long the bus may take to confirm its writes before the process is not ready (default 2 s). */
  readonly busTimeoutMs?: number;
}

const READY: ReadonlySet<AgentState> = new Set(['running', 'halted', 'paused']);
const json = (status: number, body: unknown): OpsResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

export async function liveness(src: HealthSource): Promise<OpsResponse> {
  const agents = Object.fromEntries(src.agents().map((a) => [a.name, a.state]));
  const faulted = Object.keys(agents).filter((k) => agents[k] === 'faulted');
  return json(faulted.length > 0 ? 503 : 200, {
    status: faulted.length > 0 ? 'faulted' : 'ok',
    ...(faulted.length > 0 ? { faulted } : {}),
    agents,
    uptimeS: Math.round(process.uptime()),
    pid: process.pid,
  });
}

export async function readiness(src: HealthSource): Promise<OpsResponse> {
  const agents = src.agents();
  const problems: string[] = [];
  if (agents.length === 0) problems.push('no agent started yet');
  for (const a of agents) if (!READY.has(a.state)) problems.push(`${a.name} is ${a.state}`);
  if (src.bus) {
    const ms = src.busTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      src.bus.flush().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
    clearTimeout(timer);
    if (!ok) problems.push(`the bus did not confirm its writes within ${ms} ms (is Redis reachable?)`);
  }
  return json(problems.length > 0 ? 503 : 200, {
    status: problems.length > 0 ? 'not_ready' : 'ready',
    ...(problems.length > 0 ? { problems } : {}),
    agents: Object.fromEntries(agents.map((a) => [a.name, a.state])),
  });
}

/** `/metrics`, `/healthz`, `/readyz` as framework-neutral GET handlers. */
export function opsRoutes(opts: { metrics: OpsMetrics; health: HealthSource }): Record<string, OpsHandler> {
  return {
    '/metrics': async () => ({
      status: 200,
      headers: { 'content-type': opts.metrics.contentType },
      body: await opts.metrics.text(),
    }),
    '/healthz': () => liveness(opts.health),
    '/readyz': () => readiness(opts.health),
  };
}

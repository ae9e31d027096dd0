/** The production checklist's vocabulary: one line per check, each with what to do when it is not ok. */
import type { Config } from '../../core/config.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Short dotted name: `redis`, `kalshi.auth`, `alerts.pushover` … */
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do, for warn and fail. */
  readonly fix?: string;
}

export interface DoctorContext {
  readonly config: Config;
  /** Deliver a test message through every alert channel. */
  readonly sendTestAlert: boolean;
  /** Per network call (default 5 s). */
  readonly timeoutMs: number;
  /** Wall clock of this machine (the doctor compares it with the venues' servers). */
  now(): number;
}

/** A group of checks; venue checks are such groups, so the live-execution layer can replace one. */
export type Check = (ctx: DoctorContext) => Promise<CheckResult[]>;

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'warn',
  detail,
  fix,
});
export const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
});
export const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
  /** Local time halfway through the call, for clock-skew estimates. */
  readonly midMs: number;
}

/** One HTTP call with a timeout; network errors become a thrown Error with a readable message. */
export async function http(ctx: DoctorContext, url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const t0 = ctx.now();
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(ctx.timeoutMs), redirect: 'follow' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new Error(`no answer within ${ctx.timeoutMs} ms`);
    throw new Error(e.cause?.code ?? e.cause?.message ?? e.message);
  }
  const text = await res.text();
  return { status: res.status, text, headers: res.headers, midMs: (t0 + ctx.now()) / 2 };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A clock-skew line: `serverMs` against the local midpoint of the call. `resolutionMs` is the server clock's
 * granularity (1 s for a Date header), forgiven before judging.
 */
export function skewResult(
  name: string,
  venue: string,
  serverMs: number,
  localMs: number,
  resolutionMs: number,
): CheckResult {
  const skew = localMs - serverMs;
  const beyond = Math.max(0, Math.abs(skew) - resolutionMs);
  const text = `local clock ${skew >= 0 ? '+' : '-'}${(Math.abs(skew) / 1000).toFixed(3)} s vs ${venue}`;
  const fix =
    "sync this machine's clock (systemd-timesyncd, chrony or ntpd); signed requests are refused past a few seconds of skew";
  if (beyond >= 30_000) return fail(name, `${text}: signed requests will be rejected`, fix);
  if (beyond >= 2_000) return warn(name, `${text}: data timestamps and signatures drift`, fix);
  return ok(name, text);
}

/**
 * Delivery of alerts to people: Pushover (phone) and a generic JSON webhook (Slack and Discord incoming
 * webhooks both accept its body). The notifier never blocks its caller: `enqueue` puts the alert on a bounded
 * queue (halts and resumes first; when full, the oldest ordinary alert is dropped and reported as such) and one
 * worker sends each alert to every channel at once, with a timeout per attempt and retries with backoff on
 * network errors, timeouts, 429 and 5xx. Every alert ends in exactly one report (sent, partial, failed,
 * no_channels or dropped) given to `onDone`, which the alerts agent writes to the alert log.
 *
 * HTTP timeouts and retry pauses use real timers: this is I/O plumbing, not trading logic.
 */
import type { Config } from '../core/config.ts';
import type { AlertCandidate } from './engine.ts';

export interface DeliveryResult {
  readonly channel: string;
  readonly ok: boolean;
  readonly attempts: number;
  /** HTTP status of the last attempt (0 when none arrived). */
  readonly status: number;
  readonly error?: string;
  /** Wall time spent on this channel, ms. */
  readonly ms: number;
}

export type DeliveryStatus = 'sent' | 'partial' | 'failed' | 'no_channels' | 'dropped';

export interface DeliveryReport {
  readonly status: DeliveryStatus;
  readonly results: readonly DeliveryResult[];
}

/** One way of reaching a person. `send` resolves with the HTTP status on success and throws SendError otherwise. */
export interface AlertChannel {
  readonly name: string;
  send(alert: AlertCandidate, signal: AbortSignal): Promise<number>;
}

export class SendError extends Error {
  override name = 'SendError';
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

async function post(url: string, init: RequestInit, what: string): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, method: 'POST', redirect: 'error' });
  } catch (err) {
    const e = err as Error;
    const why =
      e.name === 'TimeoutError' || e.name === 'AbortError'
        ? 'timed out'
        : ((e.cause as Error)?.message ?? e.message);
    throw new SendError(`${what}: ${why}`, 0, true);
  }
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return { status: res.status, text };
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  throw new SendError(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`.trim(), res.status, retryable);
}

export const PUSHOVER_API_URL = 'https://api.pushover.net';

export interface PushoverOptions {
  readonly token: string;
  readonly user: string;
  /** Base URL (tests point it at a fake). Default https://api.pushover.net. */
  readonly apiUrl?: string;
}

/** Pushover: POST /1/messages.json (form-encoded); priority 2 carries retry/expire so it repeats until acknowledged. */
export function pushoverChannel(opts: PushoverOptions): AlertChannel {
  const url = `${(opts.apiUrl ?? PUSHOVER_API_URL).replace(/\/+$/, '')}/1/messages.json`;
  return {
    name: 'pushover',
    async send(alert, signal) {
      const form = new URLSearchParams({
        token: opts.token,
        user: opts.user,
        title: alert.title.slice(0, 250),
        message: alert.body.slice(0, 1024) || alert.title,
        priority: String(alert.priority),
        timestamp: String(Math.floor(alert.ts / 1000)),
      });
      if (alert.priority === 2) {
        form.set('retry', String(Math.max(30, alert.emergency?.retryS ?? 60)));
        form.set('expire', String(Math.min(10_800, alert.emergency?.expireS ?? 3_600)));
      }
      const { status, text } = await post(url, { body: form, signal }, 'pushover');
      let ok = false;
      try {
        ok = (JSON.parse(text) as { status?: number }).status === 1;
      } catch {
        ok = false;
      }
      if (!ok) throw new SendError(`pushover: unexpected answer ${text.slice(0, 300)}`, status, false);
      return status;
    },
  };
}

/**
 * A JSON webhook. The body carries `text` (Slack), `content` (Discord) and the structured alert, so the same URL
 * setting works for Slack and Discord incoming webhooks and for any receiver that reads `alert`.
 */
export function webhookChannel(url: string): AlertChannel {
  return {
    name: 'webhook',
    async send(alert, signal) {
      const icon = alert.level === 'critical' ? '🚨' : alert.level === 'warning' ? '⚠️' : 'ℹ️';
      const text = `${icon} ${alert.title}\n${alert.body}`;
      const body = {
        text,
        content: text.slice(0, 2000),
        username: 'pm-arb',
        alert: {
          id: alert.id,
          kind: alert.kind,
          level: alert.level,
          title: alert.title,
          body: alert.body,
          priority: alert.priority,
          ts: alert.ts,
        },
      };
      const { status } = await post(
        url,
        { body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal },
        'webhook',
      );
      return status;
    },
  };
}

export interface NotifierOptions {
  readonly channels: readonly AlertChannel[];
  /** Called once per alert with how its delivery went (also for dropped ones). */
  readonly onDone: (alert: AlertCandidate, report: DeliveryReport) => void;
  /** Per attempt (default 5 s). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default 2). */
  readonly retries?: number;
  /** First pause between attempts, doubled each time (default 1 s). */
  readonly backoffMs?: number;
  /** Alerts waiting at most (default 100). */
  readonly queueSize?: number;
}

export interface Notifier {
  readonly channels: readonly string[];
  /**
   * Never blocks and never throws: queues the alert (or drops the oldest ordinary one when full), to the
   * channels named in `only` (default all).
   */
  enqueue(alert: AlertCandidate, only?: readonly string[]): void;
  /** Resolves when the queue is empty and nothing is being sent. */
  idle(): Promise<void>;
  /** Stops taking alerts; waits up to `graceMs` for the queue, then aborts what is in flight. */
  close(graceMs?: number): Promise<void>;
  stats(): { queued: number; sent: number; failed: number; dropped: number };
}

export function createNotifier(opts: NotifierOptions): Notifier {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const retries = opts.retries ?? 2;
  const backoffMs = opts.backoffMs ?? 1_000;
  const max = opts.queueSize ?? 100;
  const queue: { alert: AlertCandidate; channels: readonly AlertChannel[] }[] = [];
  const stop = new AbortController();
  const counts = { sent: 0, failed: 0, dropped: 0 };
  let running: Promise<void> | undefined;
  let closed = false;
  let waiters: (() => void)[] = [];

  const done = (alert: AlertCandidate, report: DeliveryReport): void => {
    try {
      opts.onDone(alert, report);
    } catch {
      // reporting must never break delivery
    }
  };

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref?.();
      stop.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });

  async function deliver(ch: AlertChannel, alert: AlertCandidate): Promise<DeliveryResult> {
    const started = performance.now();
    let last: SendError | undefined;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      if (attempt > 1) await pause(backoffMs * 2 ** (attempt - 2));
      if (stop.signal.aborted) break;
      try {
        const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]);
        const status = await ch.send(alert, signal);
        return {
          channel: ch.name,
          ok: true,
          attempts: attempt,
          status,
          ms: Math.round(performance.now() - started),
        };
      } catch (err) {
        last = err instanceof SendError ? err : new SendError(`${ch.name}: ${String(err)}`, 0, true);
        if (!last.retryable) {
          return {
            channel: ch.name,
            ok: false,
            attempts: attempt,
            status: last.status,
            error: last.message,
            ms: Math.round(performance.now() - started),
          };
        }
      }
    }
    return {
      channel: ch.name,
      ok: false,
      attempts: retries + 1,
      status: last?.status ?? 0,
      error: last?.message ?? 'stopped before sending',
      ms: Math.round(performance.now() - started),
    };
  }

  async function work(): Promise<void> {
    while (queue.length > 0) {
      const { alert, channels } = queue.shift()!;
      const results = await Promise.all(channels.map((ch) => deliver(ch, alert)));
      const ok = results.filter((r) => r.ok).length;
      const status: DeliveryStatus = ok === results.length ? 'sent' : ok > 0 ? 'partial' : 'failed';
      if (ok > 0) counts.sent++;
      else counts.failed++;
      done(alert, { status, results });
    }
    running = undefined;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  }

  return {
    channels: opts.channels.map((c) => c.name),
    enqueue(alert, only) {
      if (closed) {
        counts.dropped++;
        done(alert, { status: 'dropped', results: [] });
        return;
      }
      const channels = only ? opts.channels.filter((c) => only.includes(c.name)) : opts.channels;
      if (channels.length === 0) {
        done(alert, { status: 'no_channels', results: [] });
        return;
      }
      if (queue.length >= max) {
        const i = queue.findIndex((q) => !q.alert.essential);
        if (i < 0 && !alert.essential) {
          counts.dropped++;
          done(alert, { status: 'dropped', results: [] });
          return;
        }
        const [old] = queue.splice(Math.max(i, 0), 1);
        counts.dropped++;
        done(old!.alert, { status: 'dropped', results: [] });
      }
      const item = { alert, channels };
      if (alert.essential) {
        // halts and resumes go ahead of ordinary alerts, in their own order
        const at = queue.findIndex((q) => !q.alert.essential);
        queue.splice(at < 0 ? queue.length : at, 0, item);
      } else queue.push(item);
      running ??= work();
    },
    idle: () => (running ? new Promise<void>((resolve) => waiters.push(resolve)) : Promise.resolve()),
    async close(graceMs = 3_000) {
      closed = true;
      if (running) {
        const t = setTimeout(() => stop.abort(), graceMs);
        t.unref?.();
        await running;
        clearTimeout(t);
      }
      stop.abort();
    },
    stats: () => ({ queued: queue.length, ...counts }),
  };
}

/** The channels the configuration enables. */
export function channelsFromConfig(config: Config): AlertChannel[] {
  const out: AlertChannel[] = [];
  const { userKey, apiToken, apiUrl } = config.pushover;
  if (userKey && apiToken) out.push(pushoverChannel({ user: userKey, token: apiToken, apiUrl }));
  if (config.alerts.webhookUrl) out.push(webhookChannel(config.alerts.webhookUrl));
  return out;
}

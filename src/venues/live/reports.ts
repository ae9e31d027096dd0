/**
 * Execution reports for a venue: the user channel (websocket) first, REST polling as the fallback.
 *
 * - While the socket is down, the tracked orders are looked up and the recent fills read every `pollMs`; while it
 *   is up, the same poll runs every `pollConnectedMs` to catch anything the socket missed (a dropped frame).
 * - Reports are deduplicated: an order report by (venue order id, status, filled size), a fill by (fill id,
 *   settlement state). So the socket and the poll can both see the same thing and the handler gets it once.
 *   A report the handler could not place (it returns `false`: an order it does not know yet, e.g. a Polymarket
 *   trade event that overtook the POST /order reply naming the order) is not remembered, so the next copy of it —
 *   the poll's, or the socket's again — is delivered instead of being dropped as a duplicate.
 * - Orders are tracked by client order id; reports carry our id, mapped from the venue order id (the Polymarket
 *   user channel knows the order hash only, Kalshi its own client id). An order leaves tracking once a poll
 *   saw it terminal.
 *
 * Polling uses real timers (transport plumbing); the stamps on reports come from the injected `now()`.
 */
import { createWsFeed, type WsFeed, type WsFeedOptions } from '../../feeds/ws-feed.ts';
import type { LiveOrderSpec, LiveReport, VenueOrderClient } from './types.ts';
import { TERMINAL_STATUSES } from './types.ts';

export interface ReportSocket {
  start(emit: (r: LiveReport) => void): void;
  stop(): Promise<void>;
  connected(): boolean;
  health(): Record<string, number | string | boolean | null>;
}

/** Takes a report; `false` = not placed (an order not known yet): the stream does not count it as seen. */
export type ReportHandler = (r: LiveReport) => unknown;

export interface ReportStreamOptions {
  readonly client: VenueOrderClient;
  readonly socket?: ReportSocket;
  readonly now: () => number;
  /** Poll period while the socket is down (default 2 s). */
  readonly pollMs?: number;
  /** Poll period while it is up (default 30 s; 0 = never). */
  readonly pollConnectedMs?: number;
  /** Fills are read back this far on every poll (default 10 min), so late settlement changes are seen. */
  readonly fillLookbackMs?: number;
  readonly onError?: (err: Error) => void;
}

const DEDUP_LIMIT = 20_000;

export class ReportStream {
  private readonly opts: ReportStreamOptions;
  private readonly tracked = new Map<string, LiveOrderSpec>();
  private readonly clientIdByVenueId = new Map<string, string>();
  private readonly seen = new Set<string>();
  private handler: ReportHandler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastPoll = 0;
  /** Real time of the last poll, for the poll schedule (plumbing, not data). */
  private lastPollWall = 0;
  private polling = false;
  private running = false;
  private readonly counters = {
    socketReports: 0,
    pollReports: 0,
    duplicates: 0,
    unplaced: 0,
    polls: 0,
    pollErrors: 0,
  };

  constructor(opts: ReportStreamOptions) {
    this.opts = opts;
  }

  /** Follows an order (call before or right after submitting; again after a restart for orders still open). */
  track(spec: LiveOrderSpec, venueOrderId?: string): void {
    this.tracked.set(spec.clientOrderId, spec);
    if (venueOrderId) this.clientIdByVenueId.set(venueOrderId, spec.clientOrderId);
  }

  untrack(clientOrderId: string): void {
    this.tracked.delete(clientOrderId);
  }

  trackedCount(): number {
    return this.tracked.size;
  }

  start(handler: ReportHandler): void {
    this.handler = handler;
    this.running = true;
    this.opts.socket?.start((r) => this.deliver(r, 'socket'));
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.opts.socket?.stop();
  }

  /** One poll now (tests, reconciliation on demand). */
  async pollNow(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    this.counters.polls++;
    try {
      const since = this.opts.now() - (this.opts.fillLookbackMs ?? 600_000);
      for (const spec of [...this.tracked.values()]) {
        const order = await this.opts.client.lookup(spec);
        if (!order) continue;
        this.clientIdByVenueId.set(order.venueOrderId, spec.clientOrderId);
        this.deliver({ kind: 'order', order, ts: this.opts.now(), source: 'poll' }, 'poll');
        if (TERMINAL_STATUSES.has(order.status)) this.tracked.delete(spec.clientOrderId);
      }
      for (const fill of await this.opts.client.fills(since)) {
        this.deliver({ kind: 'fill', fill, source: 'poll' }, 'poll');
      }
    } catch (e) {
      this.counters.pollErrors++;
      this.opts.onError?.(e as Error);
    } finally {
      this.lastPoll = this.opts.now();
      this.lastPollWall = Date.now();
      this.polling = false;
    }
  }

  health(): Record<string, number | string | boolean | null> {
    return {
      ...this.counters,
      tracked: this.tracked.size,
      socketConnected: this.opts.socket?.connected() ?? false,
      lastPoll: this.lastPoll || null,
    };
  }

  /** Ticks every `pollMs`; polls when the socket is down, or when `pollConnectedMs` has passed since the last poll. */
  private schedule(delay: number): void {
    if (!this.running) return;
    this.timer = setTimeout(async () => {
      const up = this.opts.socket?.connected() ?? false;
      const every = this.opts.pollConnectedMs ?? 30_000;
      if (!up || (every > 0 && Date.now() - this.lastPollWall >= every)) await this.pollNow();
      this.schedule(this.opts.pollMs ?? 2_000);
    }, delay);
    this.timer.unref?.();
  }

  private deliver(r: LiveReport, via: 'socket' | 'poll'): void {
    let report = r;
    let key: string;
    if (r.kind === 'order') {
      const clientOrderId = this.clientIdByVenueId.get(r.order.venueOrderId) ?? r.order.clientOrderId;
      if (clientOrderId !== r.order.clientOrderId) report = { ...r, order: { ...r.order, clientOrderId } };
      key = `o|${r.order.venueOrderId}|${r.order.status}|${r.order.filledShares}`;
    } else {
      const clientOrderId = this.clientIdByVenueId.get(r.fill.venueOrderId) ?? r.fill.clientOrderId;
      if (clientOrderId !== r.fill.clientOrderId) report = { ...r, fill: { ...r.fill, clientOrderId } };
      key = `f|${r.fill.fillId}|${r.fill.settlement}`;
    }
    if (this.seen.has(key)) {
      this.counters.duplicates++;
      return;
    }
    if (this.seen.size >= DEDUP_LIMIT) {
      // oldest first (insertion order): forget the first half
      let n = DEDUP_LIMIT / 2;
      for (const k of this.seen) {
        this.seen.delete(k);
        if (--n <= 0) break;
      }
    }
    if (via === 'socket') this.counters.socketReports++;
    else this.counters.pollReports++;
    // remembered only once placed: a report dropped as "not ours yet" must not turn its later copies into duplicates
    if (this.handler?.(report) === false) {
      this.counters.unplaced++;
      return;
    }
    this.seen.add(key);
  }
}

export function createReportStream(opts: ReportStreamOptions): ReportStream {
  return new ReportStream(opts);
}

/**
 * A user channel as a ReportSocket: a reconnecting websocket (ws-feed) whose every frame is parsed into
 * reports; a frame that cannot be parsed is counted and skipped, never fatal.
 */
export function wsReportSocket(
  feed: WsFeedOptions,
  parse: (text: string, receiveTime: number) => LiveReport[],
): ReportSocket {
  let ws: WsFeed | undefined;
  let unreadable = 0;
  return {
    start(emit) {
      ws = createWsFeed(feed);
      ws.start((text, receiveTime) => {
        let reports: LiveReport[];
        try {
          reports = parse(text, receiveTime);
        } catch (err) {
          unreadable++;
          feed.onError?.(err as Error);
          return;
        }
        for (const r of reports) emit(r);
      });
    },
    async stop() {
      await ws?.stop();
    },
    connected: () => ws?.health().connected ?? false,
    health: () => ({ ...(ws?.health() ?? {}), unreadable }),
  };
}

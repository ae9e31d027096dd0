/**
 * Shadow execution for `pm-arb run --feeds live --shadow`: live data, live decisions, and each order built and
 * signed by the venue's live client exactly as it would go out — then not sent. What would have been sent (the
 * signed request body, or why the live client would have refused it: a cap, an off-tick price) is logged and
 * appended to DATA_DIR/shadow-orders.jsonl; the paper client fills the order, so paper results and intended live
 * orders can be compared line by line before any money is at risk.
 *
 * An order live trading would refuse before sending is refused here too (a `rejected` report with the reason), so
 * the paper results are those live trading could have had. A venue without credentials cannot sign: its orders
 * are still filled on paper and recorded with the reason (`unsupported`).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../../core/config.ts';
import type { Venue } from '../../core/messages.ts';
import { NotionalCaps } from '../../venues/live/caps.ts';
import { liveClientsFromConfig } from '../../venues/live/from-config.ts';
import { createShadowRecorder, type ShadowRecord } from '../../venues/live/shadow.ts';
import type { LiveOrderSpec, VenueOrderClient } from '../../venues/live/types.ts';
import type { ExecutionClient, OrderReport, OrderRequest } from '../types.ts';
import { marketFacts } from './live-execution.ts';
import { specFromRequest } from './to-execution.ts';

export interface ShadowExecution {
  /** Wraps the paper clients: each order is built, signed and recorded, then filled on paper. */
  wrap(paper: ReadonlyMap<Venue, ExecutionClient>): ReadonlyMap<Venue, ExecutionClient>;
  /** Venues whose orders are signed (credentials set). */
  readonly venues: readonly Venue[];
  readonly problems: readonly string[];
  close(): Promise<void>;
}

export interface ShadowExecutionOptions {
  readonly now: () => number;
  /** The JSON-lines file the records are appended to. */
  readonly path: string;
  /** Each record, for the log. */
  readonly onRecord?: (r: ShadowRecord) => void;
}

/** A record as stored: the signed body is kept, bigint-free (ids and amounts are strings or numbers already). */
function line(r: ShadowRecord): string {
  return `${JSON.stringify(r)}\n`;
}

export function createShadowExecution(config: Config, o: ShadowExecutionOptions): ShadowExecution {
  // the shadow day total behaves like the live one: the same caps, counted by the recorder
  const caps = new NotionalCaps({
    maxOrder: config.live.maxOrderUsd,
    maxDaily: config.live.maxDailyUsd,
    now: o.now,
  });
  // the signing clients get caps of their own that never refuse: the recorder applies the real ones once
  const signingCaps = new NotionalCaps({
    maxOrder: Number.MAX_SAFE_INTEGER,
    maxDaily: Number.MAX_SAFE_INTEGER,
    now: o.now,
  });
  const built = liveClientsFromConfig(config, { now: o.now, caps: signingCaps });
  const byVenue = new Map<Venue, VenueOrderClient>(built.clients.map((c) => [c.venue, c]));
  mkdirSync(dirname(o.path), { recursive: true });
  const recorder = createShadowRecorder({
    clients: Object.fromEntries(byVenue),
    caps,
    now: o.now,
    sink: (r) => {
      appendFileSync(o.path, line(r), { mode: 0o600 });
      o.onRecord?.(r);
    },
  });

  function wrapOne(paper: ExecutionClient): ExecutionClient {
    const venue = paper.venue;
    const facts = marketFacts(o.now);
    const listeners: ((r: OrderReport) => void)[] = [];
    paper.onReport((r) => {
      for (const l of listeners) l(r);
    });
    const refuse = (clientOrderId: string, detail: string): void => {
      const r: OrderReport = {
        clientOrderId,
        venue,
        status: 'rejected',
        reason: 'venue_rejected',
        detail,
        ts: o.now(),
      };
      for (const l of listeners) l(r);
    };
    return {
      venue,
      mode: 'shadow',
      start: () => paper.start?.() ?? Promise.resolve(),
      stop: () => paper.stop?.() ?? Promise.resolve(),
      cancel: (id) => paper.cancel(id),
      cancelAll: (scope) => paper.cancelAll(scope),
      status: (id) => paper.status(id),
      ...(paper.preview ? { preview: (req: OrderRequest) => paper.preview!(req) } : {}),
      async submit(req) {
        const f = facts.facts(req);
        if (f) {
          let spec: LiveOrderSpec;
          try {
            spec = specFromRequest(req, f);
          } catch (e) {
            refuse(req.clientOrderId, `shadow: live could not build the order: ${(e as Error).message}`);
            return;
          }
          const rec = await recorder.record(spec);
          // live would not have sent it: neither does shadow (a venue that cannot sign is filled on paper)
          if (rec.refused && rec.refused.reason !== 'unsupported') {
            refuse(
              req.clientOrderId,
              `shadow: live would refuse (${rec.refused.reason}): ${rec.refused.message}`,
            );
            return;
          }
        }
        await paper.submit(req);
      },
      onMarketData(e) {
        facts.onMarketData(e);
        paper.onMarketData?.(e);
      },
      onReport(l) {
        listeners.push(l);
        return () => {
          const i = listeners.indexOf(l);
          if (i >= 0) listeners.splice(i, 1);
        };
      },
    };
  }

  return {
    wrap: (paper) => new Map([...paper].map(([v, c]) => [v, wrapOne(c)])),
    venues: [...byVenue.keys()],
    problems: built.problems,
    async close() {
      await Promise.all(built.clients.map((c) => c.close()));
    },
  };
}

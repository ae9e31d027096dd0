/**
 * Shadow mode: live data, live decisions, orders built and signed exactly as they would go out — and not sent.
 * Each order is recorded with the signed request (or the reason the client would have refused it: the caps, an
 * off-tick price), so a user can compare what the paper client filled with what live trading would have sent.
 * The recorder uses its own caps, so the shadow day total behaves like the live one would.
 */
import type { Venue } from '../../core/messages.ts';
import { type NotionalCaps, orderNotional } from './caps.ts';
import type { LiveOrderSpec, PreparedOrder, RejectReason, VenueOrderClient } from './types.ts';

export interface ShadowRecord {
  readonly at: number;
  readonly venue: Venue;
  readonly clientOrderId: string;
  readonly requestId: string;
  readonly legIndex: number;
  readonly spec: LiveOrderSpec;
  /** What would have been sent; absent when the client would have refused the order before sending. */
  readonly prepared?: PreparedOrder;
  readonly refused?: { readonly reason: RejectReason; readonly message: string };
}

export interface ShadowRecorderOptions {
  readonly clients: Readonly<Partial<Record<Venue, Pick<VenueOrderClient, 'prepare'>>>>;
  readonly caps: NotionalCaps;
  readonly now: () => number;
  /** Where records go (log, store); called once per order. */
  readonly sink: (r: ShadowRecord) => void;
}

export interface ShadowRecorder {
  record(spec: LiveOrderSpec): Promise<ShadowRecord>;
}

export function createShadowRecorder(opts: ShadowRecorderOptions): ShadowRecorder {
  return {
    async record(spec) {
      const base = {
        at: opts.now(),
        venue: spec.venue,
        clientOrderId: spec.clientOrderId,
        requestId: spec.requestId,
        legIndex: spec.legIndex,
        spec,
      };
      let rec: ShadowRecord;
      const client = opts.clients[spec.venue];
      const cap = opts.caps.reserve(spec.clientOrderId, orderNotional(spec));
      if (!client) {
        rec = { ...base, refused: { reason: 'unsupported', message: `no ${spec.venue} client configured` } };
      } else if (!cap.ok) {
        rec = { ...base, refused: { reason: 'cap_exceeded', message: cap.message } };
      } else {
        try {
          rec = { ...base, prepared: await client.prepare(spec) };
        } catch (e) {
          opts.caps.release(spec.clientOrderId);
          const reason = (e as { reason?: RejectReason }).reason ?? 'invalid_order';
          rec = { ...base, refused: { reason, message: (e as Error).message } };
        }
      }
      opts.sink(rec);
      return rec;
    },
  };
}

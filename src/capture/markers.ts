/**
 * Connection markers: frames a feed puts in its own frame stream when its socket drops (`state: 'down'`) or comes
 * back (`'up'`), so a capture carries them like any frame and a backtest sees the disconnect where it happened.
 * The shape is the venue's own event shape with a type of `connection`:
 *
 *   {"ts":…,"source":"kalshi.ws","data":{"type":"connection","state":"down"}}
 *   {"ts":…,"source":"polymarket.ws.market","data":{"event_type":"connection","state":"down","asset_ids":["…"]}}
 *
 * (`asset_ids`: only those instruments were lost, one websocket shard of several). Older captures have none and
 * read as before.
 */
import { baseSource, type RawFrame } from '../feeds/types.ts';

export interface ConnectionMarker {
  readonly state: 'down' | 'up';
  /** The venue's token ids that were lost; absent: the whole feed. */
  readonly tokenIds?: readonly string[];
}

/** The marker a frame carries, if it is one. */
export function connectionMarker(frame: RawFrame): ConnectionMarker | undefined {
  const d = frame.data;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return undefined;
  const o = d as { type?: unknown; event_type?: unknown; state?: unknown; asset_ids?: unknown };
  if (o.type !== 'connection' && o.event_type !== 'connection') return undefined;
  if (o.state !== 'down' && o.state !== 'up') return undefined;
  const ids = o.asset_ids;
  if (Array.isArray(ids) && ids.every((x) => typeof x === 'string')) return { state: o.state, tokenIds: ids };
  return { state: o.state };
}

/** A `down` marker for `source` (as its frames name it) at `ts`, optionally for some instruments only. */
export function disconnectMarker(source: string, ts: number, tokenIds?: readonly string[]): RawFrame {
  if (baseSource(source).startsWith('polymarket.')) {
    return {
      ts,
      source,
      data: { event_type: 'connection', state: 'down', ...(tokenIds ? { asset_ids: [...tokenIds] } : {}) },
    };
  }
  return { ts, source, data: { type: 'connection', state: 'down' } };
}

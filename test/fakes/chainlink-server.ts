/**
 * A fake Polymarket RTDS socket (127.0.0.1, port 0) serving the crypto_prices_chainlink topic in the shapes
 * documented in src/oracles/chainlink/wire.ts: `{"action":"subscribe",…}` requests, `{topic, type, timestamp,
 * payload:{symbol, timestamp, value}}` updates, an initial dump `payload:{symbol, data:[…]}` for filtered
 * subscriptions, and text PING → PONG.
 */
import { startWsFake, type WsFake, type WsFakeConnection } from './ws-fake.ts';

const TOPIC = 'crypto_prices_chainlink';

interface Sub {
  /** undefined = every symbol */
  symbol?: string;
}

export interface ChainlinkFake {
  readonly url: string;
  readonly ws: WsFake;
  /** Subscribe requests received, parsed. */
  requests(): Array<{
    action: string;
    subscriptions: Array<{ topic: string; type: string; filters?: string }>;
  }>;
  /** Sends an update to every subscriber of `symbol` (lower-case, "btc/usd"). */
  price(symbol: string, value: number, timestamp: number): void;
  /** History sent as the initial dump of a filtered subscription. */
  setHistory(symbol: string, points: Array<{ timestamp: number; value: number }>): void;
  close(): Promise<void>;
}

export async function startChainlinkFake(): Promise<ChainlinkFake> {
  const ws = await startWsFake({ textHeartbeat: { ping: 'PING', pong: 'PONG' } });
  const subs = new Map<number, Sub[]>();
  const history = new Map<string, Array<{ timestamp: number; value: number }>>();
  const reqs: ReturnType<ChainlinkFake['requests']> = [];

  ws.onMessage((c: WsFakeConnection, text) => {
    if (text === 'PING') return;
    let m: { action?: string; subscriptions?: Array<{ topic: string; type: string; filters?: string }> };
    try {
      m = JSON.parse(text);
    } catch {
      c.send({ message: 'Invalid request body' });
      return;
    }
    if (m.action !== 'subscribe' || !Array.isArray(m.subscriptions)) {
      c.send({ message: 'Invalid request body' });
      return;
    }
    reqs.push(m as never);
    const list = subs.get(c.id) ?? [];
    for (const s of m.subscriptions) {
      if (s.topic !== TOPIC) continue;
      if (s.filters === undefined) {
        list.push({});
        continue;
      }
      // the filter is a JSON object serialized into a string
      const symbol = (JSON.parse(s.filters) as { symbol: string }).symbol;
      list.push({ symbol });
      const h = history.get(symbol);
      if (h) c.send({ topic: TOPIC, type: 'subscribe', timestamp: Date.now(), payload: { symbol, data: h } });
    }
    subs.set(c.id, list);
  });

  return {
    url: ws.url,
    ws,
    requests: () => reqs,
    price(symbol, value, timestamp) {
      for (const c of ws.openConnections()) {
        if ((subs.get(c.id) ?? []).some((s) => s.symbol === undefined || s.symbol === symbol)) {
          c.send({
            topic: TOPIC,
            type: 'update',
            timestamp: timestamp + 24,
            payload: { symbol, timestamp, value },
          });
        }
      }
    },
    setHistory: (symbol, points) => {
      history.set(symbol, points);
    },
    close: () => ws.close(),
  };
}

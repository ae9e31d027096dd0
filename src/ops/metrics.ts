/**
 * Prometheus metrics of one process (prom-client, one Registry per process — never the global one), fed from
 * the bus: `instrument(bus)` returns a Bus that counts every publish per channel and every delivery per channel
 * and consumer group, with the delivery lag (how old a message is when its handler gets it, from the time it
 * carries) and handler failures; the messages this process publishes feed the domain metrics — book and tick
 * staleness, risk decisions by rule, orders, fills, execution reports, equity and drawdown, agent states.
 * Each fact is counted by the process that produced it, so a Prometheus sum over processes counts it once.
 * Node's own metrics (event-loop lag, heap, GC, CPU) come from prom-client's default collectors.
 *
 * Dollar amounts are exported as float dollars: metrics are for charts and alerts on a dashboard, never for
 * accounting (the ledger is exact).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Bus, Handler, SubscribeOptions } from '../core/bus/types.ts';
import type { Channel } from '../core/channels.ts';
import type { Clock } from '../core/clock.ts';
import { AgentStateSchema, type Message } from '../core/messages.ts';
import { MICRO, notional } from '../core/money.ts';

export interface OpsMetrics {
  readonly registry: Registry;
  /** Wraps a bus so that everything through it is counted (give agents the wrapped one). */
  instrument(bus: Bus): Bus;
  /** Feeds the domain metrics with a message this process published. */
  observe(body: unknown): void;
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  readonly contentType: string;
}

export interface OpsMetricsOptions {
  readonly clock: Clock;
  /** Node process metrics, incl. event-loop lag (default true). */
  readonly processMetrics?: boolean;
  /** Constant labels on every series, e.g. `{ service: 'executor' }`. */
  readonly labels?: Readonly<Record<string, string>>;
}

const PREFIX = 'pmarb_';
const short = (channel: string): string => channel.replace(/^pmarb\./, '');
const dollars = (micro: number): number => micro / MICRO;
/** Books not updated for this long are left out of the age (an unsubscribed market; a resolved one leaves at once). */
const FORGET_AFTER_MS = 3_600_000;

const TIME_FIELDS = ['receiveTime', 'ts', 'decidedAt', 'createdAt', 'issuedAt', 'detectedAt'] as const;

/** The time a message says it was made: receive time for market data, else its event/decision time. */
function messageTime(body: unknown): number | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  for (const k of TIME_FIELDS) {
    const v = b[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

export function createOpsMetrics(opts: OpsMetricsOptions): OpsMetrics {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels({ ...opts.labels });
  if (opts.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const clock = opts.clock;
  const reg = [registry];

  const published = new Counter({
    name: `${PREFIX}bus_published_total`,
    help: 'Messages published, by channel',
    labelNames: ['channel'],
    registers: reg,
  });
  const delivered = new Counter({
    name: `${PREFIX}bus_delivered_total`,
    help: 'Messages delivered to a handler, by channel and consumer group',
    labelNames: ['channel', 'group'],
    registers: reg,
  });
  const failures = new Counter({
    name: `${PREFIX}bus_handler_failures_total`,
    help: 'Handlers that threw, by channel and consumer group',
    labelNames: ['channel', 'group'],
    registers: reg,
  });
  const lag = new Histogram({
    name: `${PREFIX}bus_delivery_lag_seconds`,
    help: 'Age of a message when its handler gets it (now minus the time it carries), by channel',
    labelNames: ['channel'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60],
    registers: reg,
  });
  const handlerSeconds = new Histogram({
    name: `${PREFIX}bus_handler_seconds`,
    help: 'Time spent in handlers, by channel',
    labelNames: ['channel'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: reg,
  });
  const buses: Bus[] = [];
  new Gauge({
    name: `${PREFIX}bus_transport_total`,
    help: "The transport's own counters (published, delivered, acked, failed, deadLettered, redelivered)",
    labelNames: ['stat'],
    registers: reg,
    collect() {
      this.reset();
      for (const b of buses) for (const [k, v] of Object.entries(b.stats())) this.inc({ stat: k }, v);
    },
  });

  // ---- books and ticks: last update per instrument, reduced per venue/source when scraped
  /** venue → token id → last update (100,000 markets: one entry per token, no composite key strings) */
  const books = new Map<string, Map<string, { venue: string; at: number; stale: boolean }>>();
  const ticks = new Map<string, { source: string; at: number; stale: boolean }>();
  const freshness = (
    name: string,
    help: string,
    label: string,
    /** the maps of last updates (books: one per venue) */
    maps: () => Iterable<Map<string, { at: number; stale: boolean } & Record<string, unknown>>>,
    field: string,
  ) => {
    new Gauge({
      name: `${PREFIX}${name}_count`,
      help: `${help}: how many, fresh or stale`,
      labelNames: [label, 'state'],
      registers: reg,
      collect() {
        this.reset();
        const now = clock.now();
        for (const map of maps())
          for (const [k, b] of map) {
            if (now - b.at > FORGET_AFTER_MS) {
              map.delete(k);
              continue;
            }
            this.inc({ [label]: String(b[field]), state: b.stale ? 'stale' : 'fresh' });
          }
      },
    });
    new Gauge({
      name: `${PREFIX}${name}_age_max_seconds`,
      help: `${help}: the longest time since one was updated`,
      labelNames: [label],
      registers: reg,
      collect() {
        this.reset();
        const now = clock.now();
        const max = new Map<string, number>();
        for (const map of maps())
          for (const b of map.values()) {
            const key = String(b[field]);
            max.set(key, Math.max(max.get(key) ?? 0, (now - b.at) / 1000));
          }
        for (const [k, v] of max) this.set({ [label]: k }, v);
      },
    });
  };
  freshness('books', 'Order books this process published', 'venue', () => books.values() as never, 'venue');
  freshness(
    'oracle_ticks',
    'Oracle symbols this process published',
    'source',
    () => [ticks] as never,
    'source',
  );

  const decisions = new Counter({
    name: `${PREFIX}risk_decisions_total`,
    help: 'Risk decisions, by verdict and rule',
    labelNames: ['verdict', 'rule'],
    registers: reg,
  });
  const opportunities = new Counter({
    name: `${PREFIX}opportunities_total`,
    help: 'Opportunities found, by kind',
    labelNames: ['kind'],
    registers: reg,
  });
  const requests = new Counter({
    name: `${PREFIX}trade_requests_total`,
    help: 'Trade requests, by strategy',
    labelNames: ['strategy'],
    registers: reg,
  });
  const orders = new Counter({
    name: `${PREFIX}orders_total`,
    help: 'Order updates, by venue and status',
    labelNames: ['venue', 'status'],
    registers: reg,
  });
  const fills = new Counter({
    name: `${PREFIX}fills_total`,
    help: 'Fills, by venue, kind and liquidity',
    labelNames: ['venue', 'kind', 'liquidity'],
    registers: reg,
  });
  const fillNotional = new Counter({
    name: `${PREFIX}fill_notional_dollars_total`,
    help: 'Notional filled (price × shares), by venue',
    labelNames: ['venue'],
    registers: reg,
  });
  const fees = new Counter({
    name: `${PREFIX}fees_dollars_total`,
    help: 'Fees paid, by venue',
    labelNames: ['venue'],
    registers: reg,
  });
  const executions = new Counter({
    name: `${PREFIX}executions_total`,
    help: 'Execution reports, by status',
    labelNames: ['status'],
    registers: reg,
  });
  const legRisk = new Counter({
    name: `${PREFIX}leg_risk_cost_dollars_total`,
    help: 'Cost of unwinding leg-risk excess',
    registers: reg,
  });
  const equity = new Gauge({
    name: `${PREFIX}equity_dollars`,
    help: 'Equity: cash plus positions at their marks',
    registers: reg,
  });
  const cash = new Gauge({ name: `${PREFIX}cash_dollars`, help: 'Cash', registers: reg });
  const positions = new Gauge({
    name: `${PREFIX}positions_value_dollars`,
    help: 'Positions at their marks',
    registers: reg,
  });
  const hwm = new Gauge({
    name: `${PREFIX}high_water_mark_dollars`,
    help: 'Equity high-water mark',
    registers: reg,
  });
  const drawdown = new Gauge({
    name: `${PREFIX}drawdown_ratio`,
    help: 'Fall of equity below its high-water mark, 0..1',
    registers: reg,
  });
  const agentState = new Gauge({
    name: `${PREFIX}agent_state`,
    help: 'Agents of this process: 1 for the state each is in',
    labelNames: ['agent', 'state'],
    registers: reg,
  });
  const heartbeats = new Gauge({
    name: `${PREFIX}agent_last_heartbeat_seconds`,
    help: 'When each agent of this process last sent a heartbeat (epoch s)',
    labelNames: ['agent'],
    registers: reg,
  });

  function observe(body: unknown): void {
    const m = body as Message;
    switch (m?.type) {
      case 'book': {
        // updated in place, keyed by the message's own token id: no key string or entry per published book
        let byToken = books.get(m.venue);
        if (!byToken) {
          byToken = new Map();
          books.set(m.venue, byToken);
        }
        const b = byToken.get(m.tokenId);
        if (b) {
          b.at = m.receiveTime;
          b.stale = m.stale;
        } else byToken.set(m.tokenId, { venue: m.venue, at: m.receiveTime, stale: m.stale });
        return;
      }
      case 'market':
        // a resolved market's books stop: they leave the counts and the age now, not FORGET_AFTER_MS later (an
        // unscraped process would otherwise keep every token a roll-over ever listed)
        if (m.status === 'resolved') {
          const byToken = books.get(m.venue);
          if (byToken) for (const o of m.outcomes) byToken.delete(o.tokenId);
        }
        return;
      case 'tick':
        ticks.set(`${m.source}:${m.symbol}`, { source: m.source, at: m.receiveTime, stale: m.stale });
        return;
      case 'opportunity':
        opportunities.inc({ kind: m.kind });
        return;
      case 'trade_request':
        requests.inc({ strategy: m.strategy });
        return;
      case 'risk_decision':
        decisions.inc({ verdict: m.verdict, rule: m.rule });
        return;
      case 'order':
        orders.inc({ venue: m.venue, status: m.status });
        return;
      case 'fill':
        fills.inc({ venue: m.venue, kind: m.kind, liquidity: m.liquidity });
        fillNotional.inc({ venue: m.venue }, dollars(notional(m.price, m.shares, 'round')));
        fees.inc({ venue: m.venue }, dollars(Math.max(0, m.fee)));
        return;
      case 'execution_report':
        executions.inc({ status: m.status });
        if (m.legRiskCost > 0) legRisk.inc(dollars(m.legRiskCost));
        return;
      case 'equity':
        equity.set(dollars(m.equity));
        cash.set(dollars(m.cash));
        positions.set(dollars(m.positionsValue));
        hwm.set(dollars(m.highWaterMark));
        drawdown.set(m.highWaterMark > 0 ? Math.max(0, (m.highWaterMark - m.equity) / m.highWaterMark) : 0);
        return;
      case 'heartbeat':
        for (const s of AgentStateSchema.options)
          agentState.set({ agent: m.agent, state: s }, s === m.state ? 1 : 0);
        heartbeats.set({ agent: m.agent }, m.ts / 1000);
        return;
      default:
        return;
    }
  }

  function instrument(bus: Bus): Bus {
    buses.push(bus);
    // each channel's series, looked up once: a label lookup hashes its label object on every call
    const publishedBy = new Map<string, { inc(): void }>();
    return {
      transport: bus.transport,
      publish(channel, body, o) {
        let counter = publishedBy.get(channel.name);
        if (counter === undefined) {
          counter = published.labels({ channel: short(channel.name) });
          publishedBy.set(channel.name, counter);
        }
        counter.inc();
        observe(body);
        return bus.publish(channel, body, o);
      },
      subscribe<T>(channel: Channel<T>, o: SubscribeOptions, handler: Handler<T>) {
        const ch = short(channel.name);
        const labels = { channel: ch, group: o.group };
        // this subscription's series, bound once (see publishedBy)
        const deliveredHere = delivered.labels(labels);
        const lagHere = lag.labels({ channel: ch });
        const handlerHere = handlerSeconds.labels({ channel: ch });
        const wrapped: Handler<T> = (msg, ctl) => {
          deliveredHere.inc();
          const t = messageTime(msg.body);
          if (t !== undefined) lagHere.observe(Math.max(0, clock.now() - t) / 1000);
          const end = handlerHere.startTimer();
          let out: void | Promise<void>;
          try {
            out = handler(msg, ctl);
          } catch (err) {
            end();
            failures.inc(labels);
            throw err;
          }
          if (out && typeof out.then === 'function')
            return out.then(
              () => void end(),
              (err: unknown) => {
                end();
                failures.inc(labels);
                throw err;
              },
            );
          end();
          return out;
        };
        return bus.subscribe(channel, o, wrapped);
      },
      flush: () => bus.flush(),
      idle: () => bus.idle(),
      stats: () => bus.stats(),
      history: (channel, limit) => bus.history(channel, limit),
      close: () => bus.close(),
    };
  }

  return {
    registry,
    instrument,
    observe,
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

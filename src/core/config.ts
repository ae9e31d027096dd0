/**
 * Configuration: read once from the environment (and `.env` when present), validated, frozen, and passed in.
 * A bad value stops start-up with a message naming the variable, the value and what is accepted.
 * Defaults are safe: paper trading, embedded database, in-process bus, servers on 127.0.0.1.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { VENUES, type Venue } from './messages.ts';
import { parseMicro } from './money.ts';
import { redactSecrets } from './redact.ts';

const bool = (name: string) =>
  z.string().transform((v, ctx) => {
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: `true or false (also 1/0, yes/no, on/off) for ${name}` });
    return z.NEVER;
  });

const pct = z.string().transform((v, ctx) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 100) {
    ctx.addIssue({ code: 'custom', message: 'a percentage greater than 0 and at most 100' });
    return z.NEVER;
  }
  // kept as basis points, an exact integer
  return Math.round(n * 100);
});

const usd = z.string().transform((v, ctx) => {
  try {
    const micro = parseMicro(v.trim());
    if (micro <= 0) throw new Error('not positive');
    return micro;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'a positive dollar amount such as 500 or 1250.50' });
    return z.NEVER;
  }
});

/** A non-negative decimal quantity (shares) → micro-units. */
const microAtLeast0 = z.string().transform((v, ctx) => {
  try {
    const micro = parseMicro(v.trim());
    if (micro < 0) throw new Error('negative');
    return micro;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'a number ≥ 0 such as 0 or 2.5' });
    return z.NEVER;
  }
});

const positiveInt = (what: string) =>
  z.string().transform((v, ctx) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) {
      ctx.addIssue({ code: 'custom', message: `a positive whole number (${what})` });
      return z.NEVER;
    }
    return n;
  });

const hour = z.string().transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 23) {
    ctx.addIssue({ code: 'custom', message: 'an hour of the day, 0 to 23 (UTC)' });
    return z.NEVER;
  }
  return n;
});

const url = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol.replace(':', ''));
      } catch {
        return false;
      }
    },
    { message: `a URL starting with ${schemes.map((s) => s + '://').join(' or ')}` },
  );

const port = z.string().transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    ctx.addIssue({ code: 'custom', message: 'a TCP port, 0 to 65535 (0 = any free port)' });
    return z.NEVER;
  }
  return n;
});
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** A venue endpoint: `secure` (https/wss) anywhere; the plain scheme only on loopback (tests, local fakes). */
const venueUrl = (secure: 'https' | 'wss') => {
  const plain = secure === 'https' ? 'http' : 'ws';
  return z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        const scheme = u.protocol.replace(':', '');
        return scheme === secure || (scheme === plain && LOOPBACK.has(u.hostname));
      } catch {
        return false;
      }
    },
    { message: `a URL starting with ${secure}:// (${plain}:// only for 127.0.0.1/localhost)` },
  );
};

const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

/** Every setting, with its default. Keep .env.example in step with this list (a test checks). */
const EnvSchema = z.object({
  REDIS_URL: url(['redis', 'rediss', 'unix'])
    .optional()
    .or(z.literal('').transform(() => undefined)),
  REDIS_STREAM_MAXLEN: positiveInt('entries kept per stream').default(100_000),
  /** A message unacked this long is handed to another consumer of its group (agents' default; the persister sets its own). */
  REDIS_VISIBILITY_TIMEOUT_MS: positiveInt('milliseconds').default(30_000),
  /** Prepended to every Redis key of the bus (isolates tests and deployments sharing one Redis). */
  REDIS_KEY_PREFIX: z.string().default(''),
  DATABASE_URL: url(['postgres', 'postgresql'])
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DATA_DIR: z.string().min(1).default('./data'),
  RETENTION_OPPORTUNITIES_DAYS: positiveInt('days').default(30),
  RETENTION_HEARTBEATS_DAYS: positiveInt('days').default(7),
  RETENTION_HISTORY_DAYS: positiveInt('days').default(30),
  RETENTION_INTENTS_DAYS: positiveInt('days').default(7),
  HISTORY_SAMPLE_MS: positiveInt('milliseconds').default(1_000),
  ANTHROPIC_API_KEY: optionalSecret,
  ANTHROPIC_BASE_URL: venueUrl('https')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  // Claude Sonnet 4.5 retired on 2026-11-30; Anthropic's recommended replacement (its model pages, see the README)
  ANTHROPIC_MODEL: z.string().min(1).default('claude-sonnet-5-5'),
  // Sonnet 5.5 thinks adaptively at effort "high" by default, and thinking tokens count against the matcher's
  // small max_tokens: a verdict is a short classification, so ask for little thinking. 'default' sends nothing.
  ANTHROPIC_EFFORT: z.enum(['low', 'medium', 'high', 'default']).default('low'),
  MATCH_MIN_CONFIDENCE: z
    .string()
    .transform((v, ctx) => {
      const n = Number(v);
      if (!(n >= 0 && n <= 1)) {
        ctx.addIssue({ code: 'custom', message: 'a number from 0 to 1' });
        return z.NEVER;
      }
      return n;
    })
    .default(0.8),
  /** Dollars the matcher's LLM stage may spend per UTC day; 0 = never call the LLM. */
  MATCHER_DAILY_BUDGET_USD: z
    .string()
    .transform((v, ctx) => {
      try {
        const micro = parseMicro(v.trim());
        if (micro < 0) throw new Error('negative');
        return micro;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'a dollar amount of 0 or more, such as 5 or 12.50' });
        return z.NEVER;
      }
    })
    .default(5_000_000),
  POLYMARKET_API_KEY: optionalSecret,
  POLYMARKET_API_SECRET: optionalSecret,
  POLYMARKET_API_PASSPHRASE: optionalSecret,
  POLYMARKET_PRIVATE_KEY: optionalSecret,
  POLYMARKET_FUNDER_ADDRESS: optionalSecret,
  /** How orders are signed: eoa (0), proxy (1), gnosis-safe (2); eip-1271 deposit wallets (3) are not supported yet. */
  POLYMARKET_SIGNATURE_TYPE: z.enum(['eoa', 'proxy', 'gnosis-safe', 'eip-1271']).default('eoa'),
  POLYMARKET_CHAIN_ID: z
    .enum(['137', '80002'])
    .default('137')
    .transform((v) => Number(v)),
  POLYMARKET_CLOB_URL: venueUrl('https').default('https://clob.polymarket.com'),
  POLYMARKET_GAMMA_URL: venueUrl('https').default('https://gamma-api.polymarket.com'),
  POLYMARKET_WS_MARKET_URL: venueUrl('wss').default('wss://ws-subscriptions-clob.polymarket.com/ws/market'),
  POLYMARKET_WS_USER_URL: venueUrl('wss').default('wss://ws-subscriptions-clob.polymarket.com/ws/user'),
  KALSHI_API_KEY_ID: optionalSecret,
  KALSHI_PRIVATE_KEY_PATH: z
    .string()
    .optional()
    .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined))
    .refine((v) => v === undefined || existsSync(v), {
      message: 'the path of an existing PEM private-key file',
    }),
  KALSHI_REST_URL: venueUrl('https').default('https://external-api.kalshi.com/trade-api/v2'),
  KALSHI_WS_URL: venueUrl('wss').default('wss://external-api-ws.kalshi.com/trade-api/ws/v2'),
  PUSHOVER_USER_KEY: optionalSecret,
  PUSHOVER_API_TOKEN: optionalSecret,
  PUSHOVER_API_URL: url(['http', 'https']).default('https://api.pushover.net'),
  /** A JSON webhook for alerts (Slack or Discord incoming webhook, or any receiver); its URL is a secret. */
  ALERT_WEBHOOK_URL: optionalSecret.refine(
    (v) => v === undefined || url(['http', 'https']).safeParse(v).success,
    {
      message: 'a URL starting with http:// or https://',
    },
  ),
  /** /metrics, /healthz, /readyz of `pm-arb agent` processes; unset = off (one port per process). */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: port.optional(),
  /** Binance REST base URL (doctor's server-time check; tests point it at a fake). */
  BINANCE_API_URL: venueUrl('https').default('https://api.binance.com'),
  /** Binance market-data websocket base (the oracle agent's live feed; benches point it at a local fake). */
  BINANCE_WS_URL: venueUrl('wss').default('wss://stream.binance.com:9443'),
  INITIAL_BANKROLL: usd.default(500_000_000),
  DRAWDOWN_LIMIT_PCT: pct.default(2_000),
  DAILY_LOSS_LIMIT_PCT: pct.default(1_000),
  POSITION_LIMIT_PCT: pct.default(1_000),
  PLATFORM_LIMIT_PCT: pct.default(5_000),
  DAILY_LOSS_RESET_HOUR_UTC: hour.default(0),
  /** At the drawdown stop or the daily-loss limit: block new risk (default) or also close unhedged positions. */
  DRAWDOWN_ACTION: z.enum(['block', 'flatten']).default('block'),
  /** The allocator scores strategies on this many minutes of history. */
  ALLOCATION_WINDOW_MINUTES: positiveInt('minutes').default(60),
  /** Settled bundles a strategy needs before it leaves probation (and for full weight in the window). */
  ALLOCATION_MIN_BUNDLES: positiveInt('bundles').default(5),
  MAX_OPEN_ORDERS: positiveInt('orders').default(20),
  MIN_EDGE_BPS: z
    .string()
    .transform((v, ctx) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({ code: 'custom', message: 'a whole number of basis points, 0 or more' });
        return z.NEVER;
      }
      return n;
    })
    .default(50),
  STALE_AFTER_MS: positiveInt('milliseconds').default(15_000),
  PAPER_LATENCY_MS: z
    .string()
    .transform((v, ctx) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({ code: 'custom', message: 'a whole number of milliseconds, 0 or more' });
        return z.NEVER;
      }
      return n;
    })
    .default(50),
  /** Per-venue medians of the paper order latency, e.g. "polymarket=40,kalshi=120"; others use PAPER_LATENCY_MS. */
  PAPER_LATENCY_BY_VENUE: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const out: Partial<Record<Venue, number>> = {};
      for (const part of v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [venue, ms] = part.split('=').map((x) => x.trim());
        const n = Number(ms);
        if (!VENUES.includes(venue as Venue) || ms === undefined || !Number.isInteger(n) || n < 0) {
          ctx.addIssue({
            code: 'custom',
            message: `"${part}": expected venue=milliseconds with a venue of ${VENUES.join(', ')} (e.g. kalshi=120)`,
          });
          return z.NEVER;
        }
        out[venue as Venue] = n;
      }
      return out;
    }),
  PAPER_TRADING: bool('PAPER_TRADING').default(true),
  /** Last-line caps inside the live venue clients, below the risk guardian. */
  LIVE_MAX_ORDER_USD: usd.default(25_000_000),
  LIVE_MAX_DAILY_USD: usd.default(250_000_000),
  LIVE_REQUEST_TIMEOUT_MS: positiveInt('milliseconds').default(10_000),
  /** Live reconciliation (venue vs our books): how often, and the differences that halt trading. */
  RECONCILE_INTERVAL_MS: positiveInt('milliseconds').default(30_000),
  RECONCILE_HALT_SHARES: microAtLeast0.default(0),
  RECONCILE_HALT_CASH_USD: usd.default(1_000_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
  DASHBOARD_PORT: port.default(8787),
  CONTROL_TOKEN: optionalSecret,
  /** Needed to read the dashboard when it listens on anything but loopback. */
  DASHBOARD_TOKEN: optionalSecret,
  /** HMAC keys of the bus: risk decisions (guardian signs, executor verifies) and system commands. */
  RISK_SIGNING_KEY: optionalSecret,
  CONTROL_SIGNING_KEY: optionalSecret,
  /** Capture files: the longest line read (bytes) and how far a frame's timestamp may stray from now. */
  CAPTURE_MAX_LINE_BYTES: positiveInt('bytes').default(16 * 1024 * 1024),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  readonly redisUrl: string | undefined;
  readonly redisStreamMaxLen: number;
  /** Default visibility timeout of the Redis bus's subscriptions (ms). */
  readonly redisVisibilityTimeoutMs: number;
  readonly redisKeyPrefix: string;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Store retention (days) of opportunities, heartbeats and sampled book/oracle history; sampling period (ms). */
  readonly store: {
    readonly retentionOpportunitiesDays: number;
    readonly retentionHeartbeatsDays: number;
    readonly retentionHistoryDays: number;
    /** Closed execution intents (done, their report stored) are kept this long (the exactly-once window). */
    readonly retentionIntentsDays: number;
    readonly historySampleMs: number;
  };
  readonly anthropic: {
    readonly apiKey: string | undefined;
    readonly baseUrl: string | undefined;
    readonly model: string;
    /** output_config.effort sent with each matcher request; undefined = the model's default */
    readonly effort: 'low' | 'medium' | 'high' | undefined;
  };
  readonly matchMinConfidence: number;
  /** MATCHER_DAILY_BUDGET_USD in micro-dollars: the LLM stage's spending limit per UTC day. */
  readonly matcherDailyBudget: number;
  readonly polymarket: {
    readonly apiKey: string | undefined;
    readonly apiSecret: string | undefined;
    readonly apiPassphrase: string | undefined;
    readonly privateKey: string | undefined;
    readonly funderAddress: string | undefined;
    readonly signatureType: Env['POLYMARKET_SIGNATURE_TYPE'];
    readonly chainId: number;
    readonly clobUrl: string;
    readonly gammaUrl: string;
    readonly wsMarketUrl: string;
    readonly wsUserUrl: string;
  };
  readonly kalshi: {
    readonly apiKeyId: string | undefined;
    readonly privateKeyPath: string | undefined;
    readonly restUrl: string;
    readonly wsUrl: string;
  };
  /** Live execution: caps (micro-dollars) enforced in the venue clients, request timeout (ms). */
  readonly live: {
    readonly maxOrderUsd: number;
    readonly maxDailyUsd: number;
    readonly requestTimeoutMs: number;
    /** Reconciliation period (ms) and halt thresholds: share difference (micro-shares), cash (micro-dollars). */
    readonly reconcileIntervalMs: number;
    readonly reconcileHaltShares: number;
    readonly reconcileHaltCashUsd: number;
  };
  readonly pushover: {
    readonly userKey: string | undefined;
    readonly apiToken: string | undefined;
    readonly apiUrl: string;
  };
  readonly alerts: { readonly webhookUrl: string | undefined };
  /** The ops server of one process (/metrics, /healthz, /readyz); port undefined = off. */
  readonly metrics: { readonly host: string; readonly port: number | undefined };
  readonly binance: { readonly restUrl: string; readonly wsUrl: string };
  readonly risk: {
    /** micro-dollars */
    readonly initialBankroll: number;
    /** all limits in basis points of bankroll/equity */
    readonly drawdownLimitBps: number;
    readonly dailyLossLimitBps: number;
    readonly positionLimitBps: number;
    readonly platformLimitBps: number;
    readonly dailyLossResetHourUtc: number;
    readonly maxOpenOrders: number;
    readonly minEdgeBps: number;
    /** A feed with no frame and no venue heartbeat for this long is stale (src/feeds/staleness.ts). */
    readonly staleAfterMs: number;
    /** At the drawdown stop or the daily-loss limit: block new risk, or also close unhedged positions. */
    readonly drawdownAction: 'block' | 'flatten';
  };
  /** The capital allocator's scoring window and minimum evidence. */
  readonly allocation: {
    readonly windowMinutes: number;
    readonly minBundles: number;
  };
  /** Median paper order latency (ms); `paperLatencyByVenue` overrides it per venue. */
  readonly paperLatencyMs: number;
  readonly paperLatencyByVenue: Partial<Record<Venue, number>>;
  /** True unless PAPER_TRADING=false; live trading also needs the --live flag. */
  readonly paperTrading: boolean;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly dashboard: {
    readonly host: string;
    readonly port: number;
    readonly controlToken: string | undefined;
    /** DASHBOARD_TOKEN: required for reading too when the server binds a non-loopback address. */
    readonly readToken: string | undefined;
  };
  /** HMAC keys (src/core/signing.ts); unset = messages go unsigned and are not checked. */
  readonly signing: {
    readonly riskKey: string | undefined;
    readonly controlKey: string | undefined;
  };
  readonly captureMaxLineBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Names of settings whose values must never be printed. */
export const SECRET_KEYS = [
  'ANTHROPIC_API_KEY',
  'POLYMARKET_API_KEY',
  'POLYMARKET_API_SECRET',
  'POLYMARKET_API_PASSPHRASE',
  'POLYMARKET_PRIVATE_KEY',
  'PUSHOVER_USER_KEY',
  'PUSHOVER_API_TOKEN',
  'ALERT_WEBHOOK_URL',
  'CONTROL_TOKEN',
  'DASHBOARD_TOKEN',
  'RISK_SIGNING_KEY',
  'CONTROL_SIGNING_KEY',
] as const;

export const CONFIG_KEYS: readonly string[] = Object.keys(EnvSchema.shape);

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * Builds the Config from an environment map (process.env by default). Empty strings count as unset.
 * Throws ConfigError listing every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = EnvSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '?');
      const secret = (SECRET_KEYS as readonly string[]).includes(key);
      // a password inside a URL (redis://:pw@host) is a secret too
      const shown = secret ? '(hidden)' : JSON.stringify(redactSecrets(input[key] ?? ''));
      const what = issue.message.replace(/^Invalid (input|option): /, '').replace(/^expected /, '');
      return `  ${key}=${shown}: expected ${what}`;
    });
    throw new ConfigError(
      `Invalid configuration:\n${lines.join('\n')}\nFix these in the environment or .env.`,
    );
  }
  const e = parsed.data;
  return deepFreeze<Config>({
    redisUrl: e.REDIS_URL,
    redisStreamMaxLen: e.REDIS_STREAM_MAXLEN,
    redisVisibilityTimeoutMs: e.REDIS_VISIBILITY_TIMEOUT_MS,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    store: {
      retentionOpportunitiesDays: e.RETENTION_OPPORTUNITIES_DAYS,
      retentionHeartbeatsDays: e.RETENTION_HEARTBEATS_DAYS,
      retentionHistoryDays: e.RETENTION_HISTORY_DAYS,
      retentionIntentsDays: e.RETENTION_INTENTS_DAYS,
      historySampleMs: e.HISTORY_SAMPLE_MS,
    },
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      model: e.ANTHROPIC_MODEL,
      effort: e.ANTHROPIC_EFFORT === 'default' ? undefined : e.ANTHROPIC_EFFORT,
    },
    matchMinConfidence: e.MATCH_MIN_CONFIDENCE,
    matcherDailyBudget: e.MATCHER_DAILY_BUDGET_USD,
    polymarket: {
      apiKey: e.POLYMARKET_API_KEY,
      apiSecret: e.POLYMARKET_API_SECRET,
      apiPassphrase: e.POLYMARKET_API_PASSPHRASE,
      privateKey: e.POLYMARKET_PRIVATE_KEY,
      funderAddress: e.POLYMARKET_FUNDER_ADDRESS,
      signatureType: e.POLYMARKET_SIGNATURE_TYPE,
      chainId: e.POLYMARKET_CHAIN_ID,
      clobUrl: e.POLYMARKET_CLOB_URL,
      gammaUrl: e.POLYMARKET_GAMMA_URL,
      wsMarketUrl: e.POLYMARKET_WS_MARKET_URL,
      wsUserUrl: e.POLYMARKET_WS_USER_URL,
    },
    kalshi: {
      apiKeyId: e.KALSHI_API_KEY_ID,
      privateKeyPath: e.KALSHI_PRIVATE_KEY_PATH,
      restUrl: e.KALSHI_REST_URL,
      wsUrl: e.KALSHI_WS_URL,
    },
    live: {
      maxOrderUsd: e.LIVE_MAX_ORDER_USD,
      maxDailyUsd: e.LIVE_MAX_DAILY_USD,
      requestTimeoutMs: e.LIVE_REQUEST_TIMEOUT_MS,
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
      reconcileHaltShares: e.RECONCILE_HALT_SHARES,
      reconcileHaltCashUsd: e.RECONCILE_HALT_CASH_USD,
    },
    pushover: { userKey: e.PUSHOVER_USER_KEY, apiToken: e.PUSHOVER_API_TOKEN, apiUrl: e.PUSHOVER_API_URL },
    alerts: { webhookUrl: e.ALERT_WEBHOOK_URL },
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT },
    binance: { restUrl: e.BINANCE_API_URL, wsUrl: e.BINANCE_WS_URL },
    risk: {
      initialBankroll: e.INITIAL_BANKROLL,
      drawdownLimitBps: e.DRAWDOWN_LIMIT_PCT,
      dailyLossLimitBps: e.DAILY_LOSS_LIMIT_PCT,
      positionLimitBps: e.POSITION_LIMIT_PCT,
      platformLimitBps: e.PLATFORM_LIMIT_PCT,
      dailyLossResetHourUtc: e.DAILY_LOSS_RESET_HOUR_UTC,
      maxOpenOrders: e.MAX_OPEN_ORDERS,
      minEdgeBps: e.MIN_EDGE_BPS,
      staleAfterMs: e.STALE_AFTER_MS,
      drawdownAction: e.DRAWDOWN_ACTION,
    },
    allocation: { windowMinutes: e.ALLOCATION_WINDOW_MINUTES, minBundles: e.ALLOCATION_MIN_BUNDLES },
    paperLatencyMs: e.PAPER_LATENCY_MS,
    paperLatencyByVenue: e.PAPER_LATENCY_BY_VENUE,
    paperTrading: e.PAPER_TRADING,
    logLevel: e.LOG_LEVEL,
    dashboard: {
      host: e.DASHBOARD_HOST,
      port: e.DASHBOARD_PORT,
      controlToken: e.CONTROL_TOKEN,
      readToken: e.DASHBOARD_TOKEN,
    },
    signing: { riskKey: e.RISK_SIGNING_KEY, controlKey: e.CONTROL_SIGNING_KEY },
    captureMaxLineBytes: e.CAPTURE_MAX_LINE_BYTES,
  });
}

/** Loads `.env` from the working directory into process.env (existing variables win), if the file exists. */
export function loadDotEnv(path = '.env'): void {
  if (!existsSync(path)) return;
  const before = { ...process.env };
  process.loadEnvFile(path);
  for (const [k, v] of Object.entries(before)) process.env[k] = v;
}

/**
 * Versioned schema migrations, applied in order and recorded in `schema_migrations`. Never edit an applied
 * migration: add the next number. The same SQL runs on PGlite and PostgreSQL.
 *
 * Conventions: money, prices and sizes are `numeric` (exact decimal, written and read as strings via
 * toDecimal/parseMicro; oracle prices keep 8 decimals); times are epoch milliseconds in `bigint` columns named
 * *_at or ts; event tables are keyed on the domain id (or the bus message id where the message has none), so a
 * redelivered message is a no-op.
 */
import type { Db, Queryable } from './db.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial_schema',
    sql: `
CREATE TABLE markets (
  venue text NOT NULL,
  market_id text NOT NULL,
  event_id text,
  slug text,
  question text NOT NULL,
  rules text NOT NULL,
  tick_size numeric NOT NULL,
  min_size numeric NOT NULL,
  fees jsonb NOT NULL,
  end_time bigint,
  status text NOT NULL,
  winner text,
  neg_risk_group text,
  placeholder boolean NOT NULL DEFAULT false,
  version text NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (venue, market_id)
);
CREATE INDEX markets_status_idx ON markets (status, end_time);

CREATE TABLE outcome_tokens (
  venue text NOT NULL,
  token_id text NOT NULL,
  market_id text NOT NULL,
  label text NOT NULL,
  side text NOT NULL,
  position int NOT NULL,
  PRIMARY KEY (venue, token_id)
);
CREATE INDEX outcome_tokens_market_idx ON outcome_tokens (venue, market_id);

-- Latest link per market pair (rules, LLM, cache or manual), as published on the links channel. pair_key is
-- order-independent: "venue:market|venue:market", the two sides sorted.
CREATE TABLE market_matches (
  pair_key text PRIMARY KEY,
  a_venue text NOT NULL,
  a_market text NOT NULL,
  b_venue text NOT NULL,
  b_market text NOT NULL,
  relation text NOT NULL,
  confidence double precision NOT NULL,
  stage text NOT NULL,
  reasons jsonb NOT NULL,
  decided_at bigint NOT NULL
);
CREATE INDEX market_matches_relation_idx ON market_matches (relation, confidence DESC);

-- Verdicts (rules or LLM) keyed by the pair and both markets' versions: a changed description is judged afresh.
CREATE TABLE match_verdicts (
  key text PRIMARY KEY,
  a_venue text NOT NULL,
  a_market text NOT NULL,
  a_version text NOT NULL,
  b_venue text NOT NULL,
  b_market text NOT NULL,
  b_version text NOT NULL,
  relation text NOT NULL,
  confidence double precision NOT NULL,
  stage text NOT NULL,
  reasons jsonb NOT NULL,
  same_event boolean,
  differences jsonb,
  decided_at bigint NOT NULL
);
CREATE INDEX match_verdicts_pair_idx ON match_verdicts (a_venue, a_market, b_venue, b_market);

-- A person's word on a pair (approve, optionally with the relation to use, or reject); wins over any verdict.
CREATE TABLE match_overrides (
  pair_key text PRIMARY KEY,
  a_venue text NOT NULL,
  a_market text NOT NULL,
  b_venue text NOT NULL,
  b_market text NOT NULL,
  decision text NOT NULL,
  relation text,
  note text,
  at bigint NOT NULL
);

CREATE TABLE oracle_links (
  venue text NOT NULL,
  market_id text NOT NULL,
  symbol text NOT NULL,
  asset text NOT NULL,
  kind text NOT NULL,
  strike numeric,
  upper numeric,
  expiry bigint NOT NULL,
  settlement_source text NOT NULL,
  yes_token text NOT NULL,
  no_token text,
  PRIMARY KEY (venue, market_id)
);

CREATE TABLE opportunities (
  id text PRIMARY KEY,
  kind text NOT NULL,
  legs jsonb NOT NULL,
  edge numeric NOT NULL,
  edge_bps int NOT NULL,
  cost numeric NOT NULL,
  fees numeric NOT NULL,
  shares numeric NOT NULL,
  signal double precision NOT NULL,
  detected_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  note text
);
CREATE INDEX opportunities_detected_idx ON opportunities (detected_at DESC);

CREATE TABLE trade_requests (
  id text PRIMARY KEY,
  strategy text NOT NULL,
  opportunity_id text,
  kind text,
  legs jsonb NOT NULL,
  tif text NOT NULL,
  expected_edge numeric NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX trade_requests_strategy_idx ON trade_requests (strategy, created_at DESC);

CREATE TABLE risk_decisions (
  id text PRIMARY KEY,
  request_id text NOT NULL,
  strategy text NOT NULL,
  verdict text NOT NULL,
  rule text NOT NULL,
  reason text NOT NULL,
  legs jsonb NOT NULL,
  tif text NOT NULL,
  decided_at bigint NOT NULL
);
CREATE INDEX risk_decisions_rule_idx ON risk_decisions (rule, decided_at DESC);
CREATE INDEX risk_decisions_decided_idx ON risk_decisions (decided_at DESC);
CREATE INDEX risk_decisions_request_idx ON risk_decisions (request_id);

-- Latest state of every order (updates with a newer updated_at win; a stale redelivery does not go back).
CREATE TABLE orders (
  id text PRIMARY KEY,
  request_id text NOT NULL,
  strategy text NOT NULL,
  leg_index int NOT NULL,
  venue text NOT NULL,
  market_id text NOT NULL,
  token_id text NOT NULL,
  side text NOT NULL,
  limit_price numeric NOT NULL,
  shares numeric NOT NULL,
  filled_shares numeric NOT NULL,
  tif text NOT NULL,
  status text NOT NULL,
  reason text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX orders_open_idx ON orders (status) WHERE status IN ('new', 'partially_filled');
CREATE INDEX orders_request_idx ON orders (request_id);

-- seq: arrival order, the tie-break of ts when fills are replayed.
CREATE TABLE fills (
  id text PRIMARY KEY,
  seq bigserial NOT NULL,
  order_id text NOT NULL,
  request_id text NOT NULL,
  strategy text NOT NULL,
  venue text NOT NULL,
  market_id text NOT NULL,
  token_id text NOT NULL,
  side text NOT NULL,
  price numeric NOT NULL,
  shares numeric NOT NULL,
  fee numeric NOT NULL,
  liquidity text NOT NULL,
  kind text NOT NULL,
  ts bigint NOT NULL
);
CREATE INDEX fills_ts_idx ON fills (ts, seq);
CREATE INDEX fills_strategy_idx ON fills (strategy, ts DESC);
CREATE INDEX fills_order_idx ON fills (order_id);

CREATE TABLE execution_reports (
  id text PRIMARY KEY,
  request_id text NOT NULL,
  strategy text NOT NULL,
  status text NOT NULL,
  fills int NOT NULL,
  leg_risk_cost numeric NOT NULL,
  fees numeric NOT NULL,
  reason text,
  ts bigint NOT NULL
);
CREATE INDEX execution_reports_ts_idx ON execution_reports (ts DESC);

-- Latest position per instrument and strategy ('' = none).
CREATE TABLE positions (
  venue text NOT NULL,
  market_id text NOT NULL,
  token_id text NOT NULL,
  strategy text NOT NULL DEFAULT '',
  shares numeric NOT NULL,
  cost_basis numeric NOT NULL,
  realized_pnl numeric NOT NULL,
  mark numeric NOT NULL,
  unrealized_pnl numeric NOT NULL,
  ts bigint NOT NULL,
  PRIMARY KEY (venue, token_id, strategy)
);
CREATE INDEX positions_open_idx ON positions (ts DESC) WHERE shares <> 0;

CREATE TABLE equity_snapshots (
  id text PRIMARY KEY,
  cash numeric NOT NULL,
  positions_value numeric NOT NULL,
  equity numeric NOT NULL,
  realized_pnl numeric NOT NULL,
  unrealized_pnl numeric NOT NULL,
  high_water_mark numeric NOT NULL,
  ts bigint NOT NULL
);
CREATE INDEX equity_snapshots_ts_idx ON equity_snapshots (ts);

CREATE TABLE strategy_performance (
  id text PRIMARY KEY,
  strategy text NOT NULL,
  trades int NOT NULL,
  wins int NOT NULL,
  losses int NOT NULL,
  pnl numeric NOT NULL,
  sharpe double precision NOT NULL,
  max_drawdown numeric NOT NULL,
  allocation numeric NOT NULL,
  ts bigint NOT NULL
);
CREATE INDEX strategy_performance_latest_idx ON strategy_performance (strategy, ts DESC);

-- One allocation message = one row per strategy, sharing the message id.
CREATE TABLE allocations (
  id text NOT NULL,
  strategy text NOT NULL,
  capital numeric NOT NULL,
  score double precision,
  ts bigint NOT NULL,
  PRIMARY KEY (id, strategy)
);
CREATE INDEX allocations_ts_idx ON allocations (ts DESC, id);

-- One row (id = 1): what the risk guardian needs to resume.
CREATE TABLE system_state (
  id int PRIMARY KEY CHECK (id = 1),
  halted boolean NOT NULL DEFAULT false,
  halt_reason text,
  halted_by text,
  halted_at bigint,
  high_water_mark numeric,
  daily_window_start bigint,
  daily_start_equity numeric,
  last_equity numeric,
  updated_at bigint NOT NULL DEFAULT 0
);
INSERT INTO system_state (id) VALUES (1);

CREATE TABLE system_events (
  id text PRIMARY KEY,
  command text NOT NULL,
  target text,
  reason text NOT NULL,
  issued_by text NOT NULL,
  issued_at bigint NOT NULL
);
CREATE INDEX system_events_issued_idx ON system_events (issued_at DESC);

CREATE TABLE alert_settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE alert_log (
  id text PRIMARY KEY,
  level text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  ts bigint NOT NULL
);
CREATE INDEX alert_log_ts_idx ON alert_log (ts DESC);

CREATE TABLE agent_heartbeats (
  id text PRIMARY KEY,
  agent text NOT NULL,
  instance text NOT NULL,
  state text NOT NULL,
  pid int NOT NULL,
  host text NOT NULL,
  details jsonb NOT NULL,
  ts bigint NOT NULL
);
CREATE INDEX agent_heartbeats_ts_idx ON agent_heartbeats (ts);
CREATE INDEX agent_heartbeats_agent_idx ON agent_heartbeats (agent, ts DESC);

-- Latest heartbeat per agent instance (kept when the history is pruned).
CREATE TABLE agent_status (
  agent text NOT NULL,
  instance text NOT NULL,
  state text NOT NULL,
  pid int NOT NULL,
  host text NOT NULL,
  details jsonb NOT NULL,
  ts bigint NOT NULL,
  PRIMARY KEY (agent, instance)
);

-- Sampled history for charts (one row per instrument per HISTORY_SAMPLE_MS at most).
CREATE TABLE book_history (
  venue text NOT NULL,
  token_id text NOT NULL,
  ts bigint NOT NULL,
  market_id text NOT NULL,
  best_bid numeric,
  bid_size numeric,
  best_ask numeric,
  ask_size numeric,
  stale boolean NOT NULL,
  PRIMARY KEY (venue, token_id, ts)
);
CREATE INDEX book_history_ts_idx ON book_history (ts);

CREATE TABLE oracle_history (
  source text NOT NULL,
  symbol text NOT NULL,
  ts bigint NOT NULL,
  price numeric NOT NULL,
  bid numeric,
  ask numeric,
  stale boolean NOT NULL,
  PRIMARY KEY (source, symbol, ts)
);
CREATE INDEX oracle_history_ts_idx ON oracle_history (ts);
`,
  },
  {
    version: 3,
    name: 'match_review_and_llm_costs',
    sql: `
-- What the LLM quoted, why it gave no verdict, and what each verdict cost (its share of the batched request).
ALTER TABLE match_verdicts ADD COLUMN quotes jsonb;
ALTER TABLE match_verdicts ADD COLUMN failure text;
ALTER TABLE match_verdicts ADD COLUMN model text;
ALTER TABLE match_verdicts ADD COLUMN input_tokens int;
ALTER TABLE match_verdicts ADD COLUMN output_tokens int;
ALTER TABLE match_verdicts ADD COLUMN cache_read_tokens int;
ALTER TABLE match_verdicts ADD COLUMN cache_write_tokens int;
ALTER TABLE match_verdicts ADD COLUMN cost_usd numeric;
ALTER TABLE match_verdicts ADD COLUMN batch_size int;

-- Pairs waiting for a person: undetermined, or linked by the LLM below the review confidence. Both markets as
-- the reviewer needs to see them (question, subtitle, rules …) in a_brief / b_brief.
CREATE TABLE match_review (
  pair_key text PRIMARY KEY,
  a_venue text NOT NULL,
  a_market text NOT NULL,
  b_venue text NOT NULL,
  b_market text NOT NULL,
  a_brief jsonb NOT NULL,
  b_brief jsonb NOT NULL,
  relation text NOT NULL,
  confidence double precision NOT NULL,
  stage text NOT NULL,
  reasons jsonb NOT NULL,
  quotes jsonb,
  queued_at bigint NOT NULL
);
CREATE INDEX match_review_queued_idx ON match_review (queued_at);

-- The matcher's LLM spending per UTC day (MATCHER_DAILY_BUDGET_USD).
CREATE TABLE match_llm_spend (
  day text PRIMARY KEY,
  requests int NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  cache_read_tokens bigint NOT NULL,
  cache_write_tokens bigint NOT NULL,
  cost_usd numeric NOT NULL
);
`,
  },
  {
    version: 4,
    name: 'alert_delivery',
    // What the alerts agent sent: its rule (kind), dedupe key, delivery status and per-channel results. Rows the
    // persister writes for alerts published on the bus keep these empty until the alerts agent delivers them.
    sql: `
ALTER TABLE alert_log ADD COLUMN kind text;
ALTER TABLE alert_log ADD COLUMN dedupe_key text;
ALTER TABLE alert_log ADD COLUMN priority int;
ALTER TABLE alert_log ADD COLUMN status text;
ALTER TABLE alert_log ADD COLUMN delivery jsonb;
ALTER TABLE alert_log ADD COLUMN delivered_at bigint;
CREATE INDEX alert_log_kind_idx ON alert_log (kind, ts DESC);
`,
  },
  {
    version: 5,
    name: 'control_actions_and_report_indexes',
    sql: `
-- Every control request (halt, resume, strategy on/off, match review, alert settings): who, when, why, result.
CREATE TABLE control_actions (
  id text PRIMARY KEY,
  action text NOT NULL,
  target text,
  params jsonb NOT NULL,
  reason text NOT NULL,
  actor text NOT NULL,
  source text NOT NULL,
  remote text,
  outcome text NOT NULL,
  detail text,
  at bigint NOT NULL
);
CREATE INDEX control_actions_at_idx ON control_actions (at DESC, id DESC);

-- What became of an opportunity (dashboard, trades/decisions reports): request by opportunity, outcome by request.
CREATE INDEX IF NOT EXISTS trade_requests_opportunity_idx ON trade_requests (opportunity_id);
CREATE INDEX IF NOT EXISTS execution_reports_request_idx ON execution_reports (request_id);
CREATE INDEX IF NOT EXISTS opportunities_kind_detected_idx ON opportunities (kind, detected_at DESC);
`,
  },
  {
    version: 6,
    name: 'bundles_and_allocation_reasons',
    sql: `
-- A trade request's legs form a bundle (an arbitrage is one): fills and requests keep its id, positions the
-- bundles holding them; strategy performance counts bundles (legs as detail).
ALTER TABLE fills ADD COLUMN bundle_id text;
CREATE INDEX fills_bundle_idx ON fills (bundle_id) WHERE bundle_id IS NOT NULL;
ALTER TABLE trade_requests ADD COLUMN bundle_id text;
ALTER TABLE positions ADD COLUMN bundle_ids jsonb;
ALTER TABLE strategy_performance ADD COLUMN open_bundles int, ADD COLUMN leg_wins int, ADD COLUMN leg_losses int;
-- Each allocation round, per strategy: the inputs and weight (explanation) and the one-line reason.
ALTER TABLE allocations ADD COLUMN explanation jsonb, ADD COLUMN reason text;
`,
  },
  {
    // 20 and up: numbers kept apart from other branches' migrations (the runner applies them in order, gaps allowed)
    version: 20,
    name: 'execution_intents',
    sql: `
-- Exactly-once execution (src/execution/intents.ts): the executor's intent to execute a decision, written before any
-- order is sent; the decision is acked on the bus only after. One row per trade request.
CREATE TABLE execution_intents (
  request_id text PRIMARY KEY,
  account text NOT NULL,
  decision jsonb NOT NULL,
  state text NOT NULL,
  owner text NOT NULL,
  fence bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX execution_intents_open_idx ON execution_intents (account, created_at) WHERE state <> 'done';
-- The newest lease fencing token per venue account: a claim with an older token is refused.
CREATE TABLE executor_fences (
  account text PRIMARY KEY,
  token bigint NOT NULL,
  owner text NOT NULL,
  at bigint NOT NULL
);
`,
  },
  {
    // 24: kept apart from the numbers other branches take from 20 up
    version: 24,
    name: 'execution_report_leg_exposure',
    sql: `
-- Per leg of a multi-leg request, ms it was exposed (ExecutionReport.legExposureMs); NULL on older rows.
ALTER TABLE execution_reports ADD COLUMN IF NOT EXISTS leg_exposure_ms jsonb;
`,
  },
  {
    version: 25,
    name: 'execution_intents_prune',
    sql: `
-- Closed intents are pruned by age (RETENTION_INTENTS_DAYS, src/store/maintenance.ts).
CREATE INDEX IF NOT EXISTS execution_intents_done_idx ON execution_intents (updated_at) WHERE state = 'done';
`,
  },
  {
    version: 26,
    name: 'ledger_snapshots_and_resolutions',
    sql: `
-- Restart cost independent of history (src/store/snapshots.ts): the ledger and bundles the stored fills make, up to
-- fill_seq (every fill with seq <= fill_seq, replayed in (ts, seq) order; (last_ts, last_seq) is the last of them).
-- Restore = the newest snapshot + the fills after it. Written by the persister periodically and when it stops.
CREATE TABLE ledger_snapshots (
  fill_seq bigint PRIMARY KEY,
  last_ts bigint NOT NULL,
  last_seq bigint NOT NULL,
  fills bigint NOT NULL,
  ledger jsonb NOT NULL,
  bundles jsonb NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS fills_seq_idx ON fills (seq);
-- Market resolutions as published (channels.resolutions): positions in a market resolved while the executor was
-- down are settled on restart, on the in-process bus too (where nothing is retained across a restart).
CREATE TABLE resolutions (
  venue text NOT NULL,
  market_id text NOT NULL,
  winner text NOT NULL,
  event_time bigint,
  receive_time bigint NOT NULL,
  PRIMARY KEY (venue, market_id)
);
`,
  },
  {
    version: 27,
    name: 'restore_windows',
    sql: `
-- Restart reads bounded windows of history (the newest orders; the orders still open), not whole tables.
CREATE INDEX IF NOT EXISTS orders_created_idx ON orders (created_at DESC);
CREATE INDEX IF NOT EXISTS orders_live_idx ON orders (created_at, id)
  WHERE status IN ('new', 'acknowledged', 'partially_filled');
`,
  },
];

export interface MigrationStatus {
  readonly applied: readonly { version: number; name: string; appliedAt: string }[];
  readonly pending: readonly { version: number; name: string }[];
}

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version int PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

async function appliedVersions(q: Queryable): Promise<Map<number, { name: string; appliedAt: string }>> {
  const r = await q.query<{ version: number; name: string; applied_at: Date | string }>(
    'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
  );
  return new Map(
    r.rows.map((row) => [
      Number(row.version),
      {
        name: row.name,
        appliedAt: row.applied_at instanceof Date ? row.applied_at.toISOString() : String(row.applied_at),
      },
    ]),
  );
}

/**
 * Applies every pending migration, each in its own transaction under an advisory lock (two processes starting
 * at once do not both migrate). Returns the versions applied now.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.exec(BOOKKEEPING);
  const done: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    const applied = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(4242, 1)');
      const have = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (have.rows.length > 0) return false;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (applied) done.push(m.version);
  }
  return done;
}

export async function migrationStatus(
  db: Db,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationStatus> {
  await db.exec(BOOKKEEPING);
  const have = await appliedVersions(db);
  return {
    applied: [...have].map(([version, v]) => ({ version, name: v.name, appliedAt: v.appliedAt })),
    pending: migrations
      .filter((m) => !have.has(m.version))
      .map((m) => ({ version: m.version, name: m.name })),
  };
}

/** Every table the store owns, for status counts and pruning. */
export const TABLES = [
  'markets',
  'outcome_tokens',
  'market_matches',
  'match_verdicts',
  'match_overrides',
  'match_review',
  'match_llm_spend',
  'oracle_links',
  'opportunities',
  'trade_requests',
  'risk_decisions',
  'orders',
  'fills',
  'execution_reports',
  'positions',
  'equity_snapshots',
  'strategy_performance',
  'allocations',
  'system_state',
  'system_events',
  'alert_settings',
  'alert_log',
  'agent_heartbeats',
  'agent_status',
  'book_history',
  'oracle_history',
  'control_actions',
  'execution_intents',
  'executor_fences',
  'ledger_snapshots',
  'resolutions',
] as const;
export type TableName = (typeof TABLES)[number];

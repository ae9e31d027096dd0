/**
 * Alert rules and thresholds: one row per rule in the `alert_settings` table (key → JSON value), which the
 * dashboard edits and the alerts agent re-reads every few seconds. Defaults are seeded at start (never
 * overwriting what an operator set) and fill any field a stored value lacks, so an old row keeps working when a
 * field is added. Dollar thresholds are decimal strings (exact, read with parseMicro).
 */
import { z } from 'zod';
import { parseMicro } from '../core/money.ts';
import type { Queryable } from '../store/db.ts';
import { getAlertSettings } from '../store/queries.ts';

/** Pushover priorities: -2 silent … 2 emergency (repeats until acknowledged). */
const priority = z.number().int().min(-2).max(2);
const seconds = z.number().int().min(1);
const usd = z.string().refine(
  (v) => {
    try {
      return parseMicro(v) >= 0;
    } catch {
      return false;
    }
  },
  { message: 'a dollar amount such as "100" or "0.50"' },
);

const rule = <T extends z.ZodRawShape>(shape: T, defaults: { enabled: boolean; priority: number }) =>
  z.object({
    enabled: z.boolean().default(defaults.enabled),
    priority: priority.default(defaults.priority),
    ...shape,
  });

/** Every alert setting, by key (the table's `key` column), with its default. */
export const AlertSettingsSchema = z.object({
  /** Which configured channels to use (credentials come from the environment) and the flood guards. */
  delivery: z
    .object({
      pushover: z.boolean().default(true),
      webhook: z.boolean().default(true),
      /** The same alert (same key) is not sent twice within this window. */
      dedupeWindowS: seconds.default(900),
      /** Token bucket over all non-critical alerts: `burst` at once, refilled at `maxPerHour`. */
      maxPerHour: z.number().int().min(1).default(30),
      burst: z.number().int().min(1).default(10),
    })
    .prefault({}),
  /** Trading halted: drawdown stop, daily-loss stop, manual HALT_ALL, fault. Emergency by default. */
  halt: rule(
    {
      /** Pushover emergency repeats: every `retryS` (≥ 30) for up to `expireS` (≤ 10800) until acknowledged. */
      retryS: z.number().int().min(30).default(60),
      expireS: z.number().int().min(30).max(10_800).default(3_600),
    },
    { enabled: true, priority: 2 },
  ).prefault({}),
  /** Trading resumed (RESUME, or the daily-loss window reopened). */
  resume: rule({}, { enabled: true, priority: 0 }).prefault({}),
  /** An agent sent no heartbeat for `afterS`, or reported itself faulted. */
  agentSilent: rule({ afterS: seconds.default(30) }, { enabled: true, priority: 1 }).prefault({}),
  /** A feed disconnected, or got no data, for `afterS`. */
  feedDown: rule({ afterS: seconds.default(60) }, { enabled: true, priority: 1 }).prefault({}),
  /** Venue account and our books disagree (live reconciliation). */
  reconciliation: rule({}, { enabled: true, priority: 1 }).prefault({}),
  /** A multi-leg order left an unmatched leg that was unwound at a cost of at least `minCostUsd`. */
  legRisk: rule({ minCostUsd: usd.default('0') }, { enabled: true, priority: 0 }).prefault({}),
  /** One fill with a notional (price × shares) of at least `notionalUsd`. */
  largeFill: rule({ notionalUsd: usd.default('100') }, { enabled: true, priority: 0 }).prefault({}),
  /** At least `count` failed handlers or dead letters within `windowS`. */
  errorBurst: rule(
    { count: z.number().int().min(1).default(10), windowS: seconds.default(60) },
    { enabled: true, priority: 1 },
  ).prefault({}),
  /** Once a day at `hourUtc`: P&L, trades, equity. */
  dailySummary: rule(
    { hourUtc: z.number().int().min(0).max(23).default(0) },
    { enabled: true, priority: -1 },
  ).prefault({}),
  /** Alerts other agents publish (faults, forged commands): forwarded from `minLevel` up. */
  busAlerts: rule(
    { minLevel: z.enum(['info', 'warning', 'critical']).default('warning') },
    { enabled: true, priority: 1 },
  ).prefault({}),
});

export type AlertSettings = z.infer<typeof AlertSettingsSchema>;
export type AlertSettingKey = keyof AlertSettings;
export const ALERT_SETTING_KEYS = Object.keys(AlertSettingsSchema.shape) as AlertSettingKey[];

export const DEFAULT_ALERT_SETTINGS: AlertSettings = AlertSettingsSchema.parse({});

export interface ParsedSettings {
  readonly settings: AlertSettings;
  /** Stored values that were not valid, with why (the default is used for those keys). */
  readonly problems: readonly string[];
}

/** Merges stored values over the defaults, key by key; an invalid key falls back to its default. */
export function parseAlertSettings(stored: Readonly<Record<string, unknown>>): ParsedSettings {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of ALERT_SETTING_KEYS) {
    if (!(key in stored)) continue;
    const one = AlertSettingsSchema.shape[key].safeParse(stored[key]);
    if (one.success) out[key] = one.data;
    else
      problems.push(
        `alert setting "${key}": ${one.error.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; ')}`,
      );
  }
  return { settings: AlertSettingsSchema.parse(out), problems };
}

/** The settings in the store, over the defaults. */
export async function loadAlertSettings(q: Queryable): Promise<ParsedSettings> {
  return parseAlertSettings(await getAlertSettings(q));
}

/** Writes the default of every key the table lacks; what an operator set is left alone. */
export async function seedAlertSettings(q: Queryable, now: number): Promise<void> {
  for (const key of ALERT_SETTING_KEYS) {
    await q.query(
      `INSERT INTO alert_settings (key, value, updated_at) VALUES ($1, $2::jsonb, $3::bigint)
       ON CONFLICT (key) DO NOTHING`,
      [key, JSON.stringify(DEFAULT_ALERT_SETTINGS[key]), String(now)],
    );
  }
}

/**
 * The alert settings the Alerts page offers before anything is stored: one key per event, each a JSON object with
 * `enabled` and the event's thresholds. What is stored in `alert_settings` wins; keys not listed here are shown
 * and editable too. The alerting agent reads the same keys; pass another catalog to the dashboard to change them.
 */
export interface AlertCatalogEntry {
  readonly key: string;
  readonly description: string;
  readonly defaultValue: Readonly<Record<string, unknown>>;
}

export const DEFAULT_ALERT_CATALOG: readonly AlertCatalogEntry[] = [
  {
    key: 'halt',
    description: 'trading halted (drawdown, daily loss, manual, fault)',
    defaultValue: { enabled: true },
  },
  { key: 'resume', description: 'trading resumed after a halt', defaultValue: { enabled: true } },
  {
    key: 'agent_missing',
    description: 'an agent sent no heartbeat for this long',
    defaultValue: { enabled: true, afterSeconds: 30 },
  },
  {
    key: 'feed_stale',
    description: 'a feed is down or stale for this long',
    defaultValue: { enabled: true, afterSeconds: 30 },
  },
  {
    key: 'leg_unwind',
    description: 'a multi-leg trade was unwound (leg risk)',
    defaultValue: { enabled: true },
  },
  {
    key: 'large_fill',
    description: 'a fill above this notional (USD)',
    defaultValue: { enabled: false, notionalUsd: '100' },
  },
  {
    key: 'error_burst',
    description: 'this many failed messages within the window',
    defaultValue: { enabled: true, count: 10, windowSeconds: 60 },
  },
  {
    key: 'daily_summary',
    description: 'P&L, trades and equity once a day at this UTC hour',
    defaultValue: { enabled: false, hourUtc: 0 },
  },
];

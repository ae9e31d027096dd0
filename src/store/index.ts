/** The store: PGlite by default, PostgreSQL on DATABASE_URL; migrations, batched writer, recovery reads. */
export {
  type Db,
  DbUnavailableError,
  type OpenDbOptions,
  openDb,
  openDbFromConfig,
  type Queryable,
} from './db.ts';
export { prune, type Retention, retentionFromConfig, type StoreStatus, storeStatus } from './maintenance.ts';
export { createSqlMatchStore } from './match-store.ts';
export { MIGRATIONS, type Migration, migrate, migrationStatus, TABLES } from './migrations.ts';
export {
  decisionsByRule,
  equityCurve,
  getAlertSettings,
  latestAllocation,
  latestEquity,
  latestPositions,
  leaderboard,
  loadFills,
  loadRecoveryState,
  openOrders,
  type RecoveryState,
  recentAlerts,
  setAlertSetting,
} from './queries.ts';
export { type RestoredStates, rebuildLedger, restoreStates } from './restore.ts';
export { mapMessage, SPECS } from './rows.ts';
export { readSystemState, type SystemState, writeSystemState } from './system-state.ts';
export { BatchWriter, createBatchWriter, type WriterStats } from './writer.ts';

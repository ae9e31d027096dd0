/**
 * What the dashboard server is built from (whatever the process has), and the seam for route groups: each group
 * mounts its routes on the app and says which paths need no token (health probes), so another module can add
 * `/metrics`, `/healthz` or `/readyz` without touching the server.
 */
import type { Hono } from 'hono';
import type { Bus } from '../core/bus/types.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { MatchStore } from '../matcher/store.ts';
import type { Db } from '../store/db.ts';
import type { AlertCatalogEntry } from './alert-catalog.ts';
import type { ControlHandlers } from './control.ts';
import type { LiveHub } from './live.ts';
import type { AccessOptions } from './security.ts';

/** What this process is, for the header of every page. */
export interface ProcessInfo {
  /** 'run' (every agent in this process) or 'dashboard' (standalone, reading the shared store). */
  readonly role: 'run' | 'dashboard';
  readonly feeds?: string;
  readonly transport: 'inproc' | 'redis' | 'none';
  /** Where the data lives, for humans (no password). */
  readonly store: string;
  /** Where the control token is (a file path, or "CONTROL_TOKEN"); never the token. */
  readonly controlTokenAt: string;
}

export interface DashboardContext {
  readonly config: Config;
  readonly clock: Clock;
  /** Absent (pm-arb run --no-store): data routes answer 503. */
  readonly db: Db | undefined;
  /** Absent: nothing is pushed live and control answers 503. */
  readonly bus: Bus | undefined;
  readonly matchStore: MatchStore | undefined;
  readonly control: ControlHandlers;
  readonly live: LiveHub;
  readonly access: AccessOptions;
  readonly info: ProcessInfo;
  readonly alertCatalog: readonly AlertCatalogEntry[];
  /** Every strategy a control may name (running ones and the stored ones). */
  strategies(): Promise<string[]>;
}

export interface RouteGroup {
  readonly name: string;
  /** Path prefixes served without any token (e.g. ["/healthz", "/readyz"]); default none. */
  readonly publicPaths?: readonly string[];
  mount(app: Hono, ctx: DashboardContext): void;
}

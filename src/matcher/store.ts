/**
 * Durable match verdicts and the manual approve/reject list. `MatchStore` is the seam: a JSON file under
 * config.dataDir by default; the store engineer may back it with PostgreSQL.
 *
 * A verdict is keyed on both markets AND both Market.version values, so the same pair at the same versions is
 * never judged twice, and a changed description is judged afresh. Overrides are keyed on the pair alone.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MarketLink, MarketRef, MatchRelation } from '../core/messages.ts';

export interface StoredVerdict {
  readonly key: string;
  readonly a: MarketRef;
  readonly b: MarketRef;
  readonly aVersion: string;
  readonly bVersion: string;
  readonly relation: MatchRelation;
  readonly confidence: number;
  /** who decided: the rules stage or the LLM */
  readonly stage: 'rules' | 'llm';
  readonly reasons: readonly string[];
  readonly sameEvent?: boolean;
  /** resolution-rule differences named by the LLM */
  readonly differences?: readonly string[];
  readonly decidedAt: number;
}

export interface MatchOverride {
  readonly a: MarketRef;
  readonly b: MarketRef;
  readonly decision: 'approve' | 'reject';
  /** approve: the relation to use (default: the judged one, else identical) */
  readonly relation?: MatchRelation;
  readonly at: number;
  readonly note?: string;
}

export interface MatchStore {
  getVerdict(key: string): Promise<StoredVerdict | undefined>;
  putVerdict(v: StoredVerdict): Promise<void>;
  listVerdicts(): Promise<StoredVerdict[]>;
  listOverrides(): Promise<MatchOverride[]>;
  /** Adds or replaces the override of the pair (either order). */
  setOverride(o: MatchOverride): Promise<void>;
  /** The latest published link of each pair (what the running system acts on). */
  putLink(l: MarketLink): Promise<void>;
  listLinks(): Promise<MarketLink[]>;
}

export const refKey = (r: MarketRef): string => `${r.venue}:${r.marketId}`;

/** Order-independent key of a pair of markets. */
export function pairKey(a: MarketRef, b: MarketRef): string {
  const ka = refKey(a);
  const kb = refKey(b);
  return ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`;
}

/** Cache key: the pair and both versions, order-independent. */
export function verdictKey(a: MarketRef, aVersion: string, b: MarketRef, bVersion: string): string {
  const ka = `${refKey(a)}@${aVersion}`;
  const kb = `${refKey(b)}@${bVersion}`;
  return ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`;
}

interface FileShape {
  version: 1;
  verdicts: Record<string, StoredVerdict>;
  overrides: MatchOverride[];
  links: Record<string, MarketLink>;
}

/** In memory, for tests and rules-only one-shot runs. */
export function createMemoryMatchStore(): MatchStore {
  const verdicts = new Map<string, StoredVerdict>();
  const links = new Map<string, MarketLink>();
  let overrides: MatchOverride[] = [];
  return {
    async getVerdict(key) {
      return verdicts.get(key);
    },
    async putVerdict(v) {
      verdicts.set(v.key, v);
    },
    async listVerdicts() {
      return [...verdicts.values()];
    },
    async listOverrides() {
      return [...overrides];
    },
    async setOverride(o) {
      const k = pairKey(o.a, o.b);
      overrides = overrides.filter((x) => pairKey(x.a, x.b) !== k);
      overrides.push(o);
    },
    async putLink(l) {
      links.set(pairKey(l.a, l.b), l);
    },
    async listLinks() {
      return [...links.values()];
    },
  };
}

export const DEFAULT_MATCH_FILE = 'matches.json';

export function matchFilePath(dataDir: string): string {
  return join(dataDir, DEFAULT_MATCH_FILE);
}

/**
 * A JSON file: read once, rewritten atomically (temp file + rename) after each change, so a crash never leaves a
 * half-written file. One writer process at a time (the matcher agent; the CLI edits overrides).
 */
export function createJsonMatchStore(path: string): MatchStore {
  let data: FileShape | undefined;
  const load = (): FileShape => {
    if (data) return data;
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<FileShape>;
      data = {
        version: 1,
        verdicts: parsed.verdicts ?? {},
        overrides: parsed.overrides ?? [],
        links: parsed.links ?? {},
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(
          `cannot read the match store ${path}: ${(err as Error).message} (fix or delete the file)`,
        );
      }
      data = { version: 1, verdicts: {}, overrides: [], links: {} };
    }
    return data;
  };
  const save = (): void => {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(load(), null, 1)}\n`);
    renameSync(tmp, path);
  };
  return {
    async getVerdict(key) {
      return load().verdicts[key];
    },
    async putVerdict(v) {
      load().verdicts[v.key] = v;
      save();
    },
    async listVerdicts() {
      return Object.values(load().verdicts);
    },
    async listOverrides() {
      return [...load().overrides];
    },
    async setOverride(o) {
      const d = load();
      const k = pairKey(o.a, o.b);
      d.overrides = d.overrides.filter((x) => pairKey(x.a, x.b) !== k);
      d.overrides.push(o);
      save();
    },
    async putLink(l) {
      load().links[pairKey(l.a, l.b)] = l;
      save();
    },
    async listLinks() {
      return Object.values(load().links);
    },
  };
}

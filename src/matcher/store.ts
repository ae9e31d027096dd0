/**
 * Durable match state: verdicts, manual approve/reject, published links, the review queue and the LLM stage's
 * spending. `MatchStore` is the seam: a JSON file under config.dataDir by default, PostgreSQL/PGlite through
 * src/store/match-store.ts, memory for tests and one-shot runs, and an overlay (reads a live store, writes
 * elsewhere) for audits that must not touch the live state.
 *
 * A verdict is keyed on both markets AND both Market.version values, so the same pair at the same versions is
 * never judged (or paid for) twice, and a changed description is judged afresh. Overrides and review items are
 * keyed on the pair alone.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { flat } from '../core/flat.ts';
import {
  instrumentKey,
  type Market,
  type MarketLink,
  type MarketRef,
  type MatchRelation,
} from '../core/messages.ts';

/** Tokens and cost of one verdict: its share of the request that produced it. */
export interface VerdictUsage {
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  /** micro-dollars */
  readonly costMicro: number;
  /** pairs judged by the same request */
  readonly batchSize: number;
}

/** What the LLM stage spent (one request, or the sum of a day). */
export interface LlmSpend {
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  /** micro-dollars */
  readonly costMicro: number;
}

export const NO_SPEND: LlmSpend = {
  requests: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costMicro: 0,
};

export const addSpend = (x: LlmSpend, y: LlmSpend): LlmSpend => ({
  requests: x.requests + y.requests,
  inputTokens: x.inputTokens + y.inputTokens,
  outputTokens: x.outputTokens + y.outputTokens,
  cacheReadTokens: x.cacheReadTokens + y.cacheReadTokens,
  cacheWriteTokens: x.cacheWriteTokens + y.cacheWriteTokens,
  costMicro: x.costMicro + y.costMicro,
});

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
  /** rule sentences the LLM quoted from market a and market b */
  readonly quotesA?: readonly string[];
  readonly quotesB?: readonly string[];
  /** set when the answer was no verdict (a refusal): the pair stays undetermined at these versions */
  readonly failure?: string;
  readonly usage?: VerdictUsage;
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

/** What a reviewer needs to see of a market. */
export interface MarketBrief {
  readonly venue: MarketRef['venue'];
  readonly marketId: string;
  readonly version: string;
  readonly question: string;
  readonly subtitle?: string;
  readonly eventTitle?: string;
  readonly rules: string;
  readonly endTime: number | null;
  readonly outcomes: readonly string[];
}

/** Rules kept in a review item: enough to read the resolution, bounded so a large queue stays a small file. */
export const BRIEF_RULES_CHARS = 2_000;

export const briefOf = (m: Market): MarketBrief => ({
  venue: m.venue,
  marketId: m.marketId,
  version: m.version,
  question: m.question,
  ...(m.subtitle ? { subtitle: m.subtitle } : {}),
  ...(m.eventTitle ? { eventTitle: m.eventTitle } : {}),
  rules: m.rules.length > BRIEF_RULES_CHARS ? `${m.rules.slice(0, BRIEF_RULES_CHARS)}…` : m.rules,
  endTime: m.endTime,
  outcomes: m.outcomes.map((o) => o.label),
});

/** A pair waiting for a person: undetermined, or linked by the LLM with a confidence below the review mark. */
export interface ReviewItem {
  /** pairKey(a, b) */
  readonly key: string;
  readonly a: MarketBrief;
  readonly b: MarketBrief;
  readonly relation: MatchRelation;
  readonly confidence: number;
  readonly stage: MarketLink['stage'];
  readonly reasons: readonly string[];
  readonly quotesA?: readonly string[];
  readonly quotesB?: readonly string[];
  readonly queuedAt: number;
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
  /** Adds or replaces the review item of a pair. */
  putReview(item: ReviewItem): Promise<void>;
  removeReview(key: string): Promise<void>;
  listReview(): Promise<ReviewItem[]>;
  /**
   * Drops the links and review items of these pairs (pairKey): one of their markets resolved, so no one trades or
   * reviews them again. Overrides (a person's verdict) and the verdict cache (paid-for LLM answers) are kept.
   */
  forgetPairs(keys: readonly string[]): Promise<void>;
  /** Adds one request's spending to a UTC day ("2026-08-19"). */
  addLlmSpend(day: string, spend: LlmSpend): Promise<void>;
  llmSpend(day: string): Promise<LlmSpend>;
}

// interned: one key string per market in the process (instrumentKey's table)
export const refKey = (r: MarketRef): string => instrumentKey(r.venue, r.marketId);

/** Order-independent key of a pair of markets given their refKeys (a map key for the life of the process). */
export const pairKeyOfKeys = (ka: string, kb: string): string =>
  ka < kb ? flat(ka, '|', kb) : flat(kb, '|', ka);

/** Order-independent key of a pair of markets. */
export const pairKey = (a: MarketRef, b: MarketRef): string => pairKeyOfKeys(refKey(a), refKey(b));

/** Cache key: the pair and both versions, order-independent. */
export function verdictKey(a: MarketRef, aVersion: string, b: MarketRef, bVersion: string): string {
  const ka = `${refKey(a)}@${aVersion}`;
  const kb = `${refKey(b)}@${bVersion}`;
  return ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`;
}

/**
 * A published link as the store keeps it: the markets as their interned refKey strings (shared with the rest of
 * the process) instead of two ref objects, no `type`, one reason without an array. At 100,000 markets the store
 * holds ~10^6 links, and the full MarketLink objects cost ~2 KB per market.
 */
class LinkRec {
  constructor(
    readonly a: string,
    readonly b: string,
    readonly relation: MatchRelation,
    readonly confidence: number,
    readonly stage: MarketLink['stage'],
    readonly reasons: string | readonly string[],
    readonly decidedAt: number,
  ) {}
}

const keyRef = (k: string): MarketRef => {
  const i = k.indexOf(':');
  return { venue: k.slice(0, i) as MarketRef['venue'], marketId: k.slice(i + 1) };
};

const toRec = (l: MarketLink): LinkRec =>
  new LinkRec(
    refKey(l.a),
    refKey(l.b),
    l.relation,
    l.confidence,
    l.stage,
    l.reasons.length === 1 ? l.reasons[0]! : [...l.reasons],
    l.decidedAt,
  );

const fromRec = (r: LinkRec): MarketLink => ({
  type: 'link',
  a: keyRef(r.a),
  b: keyRef(r.b),
  relation: r.relation,
  confidence: r.confidence,
  stage: r.stage,
  reasons: typeof r.reasons === 'string' ? [r.reasons] : [...r.reasons],
  decidedAt: r.decidedAt,
});

const sameRec = (x: LinkRec, y: LinkRec): boolean =>
  x.a === y.a &&
  x.b === y.b &&
  x.relation === y.relation &&
  x.confidence === y.confidence &&
  x.stage === y.stage &&
  x.decidedAt === y.decidedAt &&
  (typeof x.reasons === 'string' || typeof y.reasons === 'string'
    ? x.reasons === y.reasons
    : x.reasons.length === y.reasons.length && x.reasons.every((r, i) => r === y.reasons[i]));

interface State {
  verdicts: Record<string, StoredVerdict>;
  overrides: MatchOverride[];
  /** pairKey → link */
  links: Map<string, LinkRec>;
  review: Record<string, ReviewItem>;
  spend: Record<string, LlmSpend>;
}

const emptyState = (): State => ({ verdicts: {}, overrides: [], links: new Map(), review: {}, spend: {} });

/** The operations of a store over a State: `get` reads it, `change` applies (and records) a mutation. */
function stateStore(get: () => State, change: (op: (s: State) => void) => void): MatchStore {
  return {
    async getVerdict(key) {
      return get().verdicts[key];
    },
    async putVerdict(v) {
      change((s) => {
        s.verdicts[v.key] = v;
      });
    },
    async listVerdicts() {
      return Object.values(get().verdicts);
    },
    async listOverrides() {
      return [...get().overrides];
    },
    async setOverride(o) {
      const k = pairKey(o.a, o.b);
      change((s) => {
        s.overrides = s.overrides.filter((x) => pairKey(x.a, x.b) !== k);
        s.overrides.push(o);
      });
    },
    async putLink(l) {
      const rec = toRec(l);
      const k = pairKeyOfKeys(rec.a, rec.b);
      const old = get().links.get(k);
      // the same link again: nothing to write
      if (old && sameRec(old, rec)) return;
      change((s) => {
        s.links.set(k, rec);
      });
    },
    async listLinks() {
      return [...get().links.values()].map(fromRec);
    },
    async putReview(item) {
      change((s) => {
        s.review[item.key] = item;
      });
    },
    async removeReview(key) {
      if (!(key in get().review)) return;
      change((s) => {
        delete s.review[key];
      });
    },
    async forgetPairs(keys) {
      const s0 = get();
      // no change, no rewrite of the file: most resolved markets had nothing stored
      if (!keys.some((k) => s0.links.has(k) || k in s0.review)) return;
      change((s) => {
        for (const k of keys) {
          s.links.delete(k);
          delete s.review[k];
        }
      });
    },
    async listReview() {
      return Object.values(get().review).sort((x, y) => x.queuedAt - y.queuedAt || (x.key < y.key ? -1 : 1));
    },
    async addLlmSpend(day, spend) {
      change((s) => {
        s.spend[day] = addSpend(s.spend[day] ?? NO_SPEND, spend);
      });
    },
    async llmSpend(day) {
      return get().spend[day] ?? NO_SPEND;
    },
  };
}

/** In memory, for tests and rules-only one-shot runs. */
export function createMemoryMatchStore(): MatchStore {
  const state = emptyState();
  return stateStore(
    () => state,
    (op) => op(state),
  );
}

export const DEFAULT_MATCH_FILE = 'matches.json';

export function matchFilePath(dataDir: string): string {
  return join(dataDir, DEFAULT_MATCH_FILE);
}

/** A MatchStore kept in a file: `flush()` writes what is pending (the CLI calls it before it exits). */
export interface FileMatchStore extends MatchStore {
  readonly path: string;
  flush(): void;
}

/** Bytes of file per ms of extra delay before the next write (see createJsonMatchStore). */
export const WRITE_BYTES_PER_MS = 10_000;

/** Characters per write of the match file (≤ 64 KB even as two-byte text: see writeStateJson). */
const WRITE_PIECE_CHARS = 1 << 15;

const refJson = (k: string): string => {
  const i = k.indexOf(':');
  return `{\n    "venue": ${JSON.stringify(k.slice(0, i))},\n    "marketId": ${JSON.stringify(k.slice(i + 1))}\n   }`;
};

/**
 * `JSON.stringify(fromRec(r), null, 1)` nested two levels deep, written out by hand: the generic stringify with
 * indent plus the re-indenting replaceAll was most of the CPU of a rewrite (~9% of `run` at 40k markets).
 */
function linkJson(r: LinkRec): string {
  const reasons = typeof r.reasons === 'string' ? [r.reasons] : r.reasons;
  const rs =
    reasons.length === 0 ? '[]' : `[\n    ${reasons.map((x) => JSON.stringify(x)).join(',\n    ')}\n   ]`;
  return `{\n   "type": "link",\n   "a": ${refJson(r.a)},\n   "b": ${refJson(r.b)},\n   "relation": ${JSON.stringify(r.relation)},\n   "confidence": ${JSON.stringify(r.confidence)},\n   "stage": ${JSON.stringify(r.stage)},\n   "reasons": ${rs},\n   "decidedAt": ${JSON.stringify(r.decidedAt)}\n  }`;
}

/**
 * Writes `${JSON.stringify({ version: 1, ...state }, null, 1)}\n` to `fd`, byte for byte, one entry at a time: at
 * 100,000 markets the links alone are ~300 MB of JSON, and one string of it (plus its copies) was the largest
 * transient in the process. Returns the bytes written.
 */
export function writeStateJson(fd: number, state: State): number {
  let buf = '';
  let bytes = 0;
  const put = (x: string): void => {
    buf += x;
    // written in pieces of ≤ 64 KB, each flattened in the young generation: a piece over 128 KB is a large object,
    // allocated in the old generation, and a 44 MB rewrite every few seconds grew the heap by GBs between full GCs
    if (buf.length >= WRITE_PIECE_CHARS) {
      bytes += writeSync(fd, buf);
      buf = '';
    }
  };
  // nested under `depth` levels of indent-1 JSON: continuation lines get `depth` more spaces (a JSON text has no
  // raw newline inside a string, so every newline is layout)
  const nested = (v: unknown, depth: number): string =>
    JSON.stringify(v, null, 1).replaceAll('\n', `\n${' '.repeat(depth)}`);
  put('{\n "version": 1');
  for (const [k, v] of Object.entries(state) as [string, unknown][]) {
    put(`,\n ${JSON.stringify(k)}: `);
    if (v instanceof Map) {
      if (v.size === 0) {
        put('{}');
        continue;
      }
      put('{');
      let first = true;
      for (const [ek, ev] of v as Map<string, LinkRec>) {
        put(`${first ? '' : ','}\n  ${JSON.stringify(ek)}: ${linkJson(ev)}`);
        first = false;
      }
      put('\n }');
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      put(nested(v, 1));
      continue;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) {
      put('{}');
      continue;
    }
    put('{');
    let first = true;
    for (const [ek, ev] of entries) {
      put(`${first ? '' : ','}\n  ${JSON.stringify(ek)}: ${nested(ev, 2)}`);
      first = false;
    }
    put('\n }');
  }
  put('\n}\n');
  if (buf.length > 0) bytes += writeSync(fd, buf);
  return bytes;
}

/**
 * A JSON file, rewritten atomically (temp file + rename), so a crash never leaves a half-written file. Changes
 * are applied in memory at once and written together at most every `writeDelayMs` (default 200 ms; a listing
 * of thousands of markets must not rewrite the file once per pair), plus 1 ms per WRITE_BYTES_PER_MS bytes of the
 * last write (a 300 MB file is rewritten every 30 s at most, not every 200 ms while a large listing is matched);
 * `flush()` writes at once. The file is streamed entry by entry, never held as one string. The file is read again whenever another
 * process has replaced it (the CLI approves a pair while the matcher agent runs): the changes not yet written are
 * applied again on top of what was read, so neither writer loses the other's.
 */
export function createJsonMatchStore(
  path: string,
  o: { writeDelayMs?: number; recheckMs?: number } = {},
): FileMatchStore {
  let state: State | undefined;
  let seen = '';
  let checkedAt = Number.NEGATIVE_INFINITY;
  const recheckMs = o.recheckMs ?? 0;
  let pending: ((s: State) => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastBytes = 0;
  const stamp = (): string => {
    try {
      const st = statSync(path);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return '';
    }
  };
  const read = (): State => {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<State>;
      return {
        verdicts: parsed.verdicts ?? {},
        overrides: parsed.overrides ?? [],
        links: new Map(
          Object.entries((parsed.links ?? {}) as unknown as Record<string, MarketLink>).map(([k, l]) => [
            k,
            toRec(l),
          ]),
        ),
        review: parsed.review ?? {},
        spend: parsed.spend ?? {},
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(
          `cannot read the match store ${path}: ${(err as Error).message} (fix or delete the file)`,
        );
      }
      return emptyState();
    }
  };
  const get = (force = false): State => {
    // a stat per read was ~1.5% of `run` at 40k markets (several reads per market message): `recheckMs` bounds
    // how stale another process's write may look (never lost: pending changes are applied again on a re-read)
    if (state && !force && recheckMs > 0 && performance.now() - checkedAt < recheckMs) return state;
    checkedAt = performance.now();
    const now = stamp();
    if (state && now === seen) return state;
    const fresh = read();
    for (const op of pending) op(fresh);
    state = fresh;
    seen = now;
    return state;
  };
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    // always looks: a write over another process's newer file would lose its changes
    const s = get(true);
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      lastBytes = writeStateJson(fd, s);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    pending = [];
    seen = stamp();
    checkedAt = performance.now();
  };
  const change = (op: (s: State) => void): void => {
    op(get());
    pending.push(op);
    timer ??= setTimeout(flush, (o.writeDelayMs ?? 200) + Math.floor(lastBytes / WRITE_BYTES_PER_MS));
  };
  return { ...stateStore(() => get(), change), path, flush };
}

/**
 * Reads `base` and writes `top`: an audit (`pm-arb matches --capture`, `--eval`) uses the live cache, overrides
 * and the day's spending, and never writes into the live store. Reads prefer `top`; spending is the sum of both.
 */
export function overlayMatchStore(base: MatchStore, top: MatchStore): MatchStore {
  return {
    async getVerdict(key) {
      return (await top.getVerdict(key)) ?? (await base.getVerdict(key));
    },
    putVerdict: (v) => top.putVerdict(v),
    async listVerdicts() {
      const t = await top.listVerdicts();
      const keys = new Set(t.map((v) => v.key));
      return [...(await base.listVerdicts()).filter((v) => !keys.has(v.key)), ...t];
    },
    async listOverrides() {
      const t = await top.listOverrides();
      const keys = new Set(t.map((o) => pairKey(o.a, o.b)));
      return [...(await base.listOverrides()).filter((o) => !keys.has(pairKey(o.a, o.b))), ...t];
    },
    setOverride: (o) => top.setOverride(o),
    putLink: (l) => top.putLink(l),
    listLinks: () => top.listLinks(),
    putReview: (r) => top.putReview(r),
    removeReview: (k) => top.removeReview(k),
    listReview: () => top.listReview(),
    forgetPairs: (k) => top.forgetPairs(k),
    addLlmSpend: (d, s) => top.addLlmSpend(d, s),
    async llmSpend(day) {
      return addSpend(await base.llmSpend(day), await top.llmSpend(day));
    },
  };
}

/**
 * Exactly-once execution: the executor records its intent to execute a decision in the store BEFORE any order is
 * sent, and acks the decision on the bus only AFTER (src/agents/executor.ts). The intent row is the one place that
 * says a decision was taken, so neither a restart nor a second executor of the group executes it again.
 *
 *   claimed    recorded, orders maybe not sent yet (a crash here: the next executor sends them)
 *   submitted  the legs were handed to the venues' clients
 *   done       the decision's ExecutionReport went out
 *
 * Fencing: with a lease (src/execution/lease.ts) each executor holds a fencing token; a claim names it and the
 * store refuses a claim whose token is older than the newest one it has seen for the account, so an executor that
 * was paused (SIGSTOP) past its lease and resumes cannot take a decision any more. Without a lease (one process,
 * in-process bus) no token is given and nothing is fenced.
 *
 * The guardian's fence: a decision carries the token of the guardian's lease (`fence`, the Redis deployment); a
 * claim of a decision whose token is older than the newest guardian token the store knows (the database: the
 * `risk-guardian` row a guardian writes when it becomes active; memory: the newest token seen in a decision) is
 * refused, so a guardian paused past its lease cannot have its late decisions executed. The refusal finishes the
 * request (an intent recorded as done, and a `rejected` ExecutionReport): nobody may be left holding the reservation
 * of an approval that will never execute (the newer guardian may have taken it over from the store).
 *
 * Two stores: the database (src/store/intents.ts; migration 20: execution_intents, executor_fences) and memory
 * (tests; a process with no store, where exactly-once holds for the life of the process only).
 */
import type { RiskDecision } from '../core/messages.ts';

export type IntentState = 'claimed' | 'submitted' | 'done';

export interface ExecutionIntent {
  readonly requestId: string;
  readonly account: string;
  readonly decision: RiskDecision;
  readonly state: IntentState;
  readonly owner: string;
  readonly fence: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** What the store knows of the intent's leg orders (leg index → status, filled shares), when it knows. */
  readonly legs?: Readonly<Record<number, { readonly status: string; readonly filledShares: number }>>;
}

export type ClaimResult =
  /** Recorded now: this executor executes the decision. */
  | { readonly outcome: 'new' }
  /** It was taken before (by this executor in an earlier life, or another one). */
  | { readonly outcome: 'exists'; readonly intent: ExecutionIntent }
  /** A newer lease holder exists for the account: this executor must not execute anything. */
  | { readonly outcome: 'fenced'; readonly newest: number }
  /**
   * The decision comes from a guardian a newer one has fenced out: it is not executed. `refused`: no decision of the
   * request had been taken, so the refusal is recorded as the request's intent, already done (a later decision of
   * it, by the newer guardian, finds it taken), and this executor publishes the request's ExecutionReport — the one
   * release of the reservation its approval made (the store and a guardian that took over hold it). False: another
   * decision of the request was taken; its report ends the request.
   */
  | { readonly outcome: 'staleDecision'; readonly newest: number; readonly refused: boolean };

/** The fences row of the risk guardian's lease (one guardian for the system, src/agents/risk-guardian.ts). */
export const GUARDIAN_FENCE = 'risk-guardian';

/** The newest fencing token of one lease, kept where the executors can check it (the store). */
export interface FenceStore {
  /** Makes `token` the newest; false when a newer one is there already. */
  advance(token: number, owner: string, now: number): Promise<boolean>;
  newest(): Promise<number>;
}

/** Memory (tests). */
export function createMemoryFenceStore(shared: { token: number } = { token: 0 }): FenceStore {
  return {
    async advance(token) {
      if (token < shared.token) return false;
      shared.token = token;
      return true;
    },
    async newest() {
      return shared.token;
    },
  };
}

export interface ClaimContext {
  readonly owner: string;
  /** The lease's fencing token; undefined: no lease (nothing is fenced). */
  readonly fence: number | undefined;
  readonly now: number;
}

export interface IntentStore {
  readonly account: string;
  claim(d: RiskDecision, ctx: ClaimContext): Promise<ClaimResult>;
  /**
   * `submitted` only moves a `claimed` intent on; `done` is final and happens once: true when this call made the
   * intent done (or there is no intent: a decision never claimed, e.g. a rejection), false when it already was
   * (another executor closed it: its ExecutionReport went out, this one must not). Memory answers at once (the
   * report of a process without a store goes out in the same turn as the fill that ended it).
   */
  mark(requestId: string, state: 'submitted' | 'done', now: number): Promise<boolean> | boolean;
  /**
   * Makes `fence` the newest token of the account (a new lease holder, at once: an older holder is fenced before
   * the new one claims anything). False when a newer one is already there.
   */
  advanceFence(fence: number, owner: string, now: number): Promise<boolean>;
  /** The newest fencing token the store has seen for the account (0: none). */
  newestFence(): Promise<number>;
  /**
   * Intents of the account whose ExecutionReport the store does not hold, oldest first: not done, or done by an
   * executor that died before its report reached the bus (the database store; memory: the ones not done).
   */
  unfinished(): Promise<ExecutionIntent[]>;
}

/** Memory: tests, and two executors of one process sharing `shared`. */
export function createMemoryIntentStore(
  account = 'paper',
  shared: { intents: Map<string, ExecutionIntent>; fence: number; guardianFence?: number } = {
    intents: new Map(),
    fence: 0,
  },
): IntentStore & { readonly shared: typeof shared } {
  return {
    account,
    shared,
    async claim(d, ctx) {
      if (d.fence !== undefined) {
        const newest = shared.guardianFence ?? 0;
        if (d.fence < newest) {
          if (shared.intents.has(d.requestId)) return { outcome: 'staleDecision', newest, refused: false };
          shared.intents.set(d.requestId, {
            requestId: d.requestId,
            account,
            decision: d,
            state: 'done',
            owner: ctx.owner,
            fence: ctx.fence ?? 0,
            createdAt: ctx.now,
            updatedAt: ctx.now,
          });
          return { outcome: 'staleDecision', newest, refused: true };
        }
        shared.guardianFence = d.fence;
      }
      if (ctx.fence !== undefined) {
        if (ctx.fence < shared.fence) return { outcome: 'fenced', newest: shared.fence };
        shared.fence = ctx.fence;
      }
      const have = shared.intents.get(d.requestId);
      if (have) return { outcome: 'exists', intent: have };
      shared.intents.set(d.requestId, {
        requestId: d.requestId,
        account,
        decision: d,
        state: 'claimed',
        owner: ctx.owner,
        fence: ctx.fence ?? 0,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      });
      return { outcome: 'new' };
    },
    mark(requestId, state, now) {
      const i = shared.intents.get(requestId);
      if (!i) return true;
      if (i.state === 'done' || (state === 'submitted' && i.state !== 'claimed')) return false;
      shared.intents.set(requestId, { ...i, state, updatedAt: now });
      return true;
    },
    async newestFence() {
      return shared.fence;
    },
    async advanceFence(fence) {
      if (fence < shared.fence) return false;
      shared.fence = fence;
      return true;
    },
    async unfinished() {
      return [...shared.intents.values()].filter((i) => i.state !== 'done');
    },
  };
}

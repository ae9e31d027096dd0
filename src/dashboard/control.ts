/**
 * What a control request does, behind one interface so each process plugs in what it has: `pm-arb run` and
 * `pm-arb dashboard` use the bus handlers below; a process with a confirming kill switch can pass its own.
 *
 * - halt / resume: a SystemCommand (HALT_ALL / RESUME) on channels.system for every agent, and the halt state in
 *   system_state (so a process that starts later, or reads the store, sees it at once);
 * - strategy on/off: a StrategyControl message for the strategy runner;
 * - match approve/reject: the manual override in the MatchStore (durable: the matcher applies it whenever it
 *   judges the pair) and the resulting manual link on channels.links, so the scanner acts on it now.
 */
import type { Bus } from '../core/bus/types.ts';
import { channels } from '../core/channels.ts';
import type { Clock } from '../core/clock.ts';
import type { MarketLink, MarketRef, MatchRelation, SystemCommand } from '../core/messages.ts';
import { approvePair, rejectPair } from '../matcher/review.ts';
import type { MatchStore } from '../matcher/store.ts';
import type { Db } from '../store/db.ts';
import { writeSystemState } from '../store/system-state.ts';

/** Who asked, from where, and why: recorded with every control action. */
export interface ControlMeta {
  /** The person (or script) named in the request. */
  readonly actor: string;
  /** 'dashboard' (the web pages) or 'api' (the CLI, a script). */
  readonly source: 'dashboard' | 'api';
  readonly remote: string | null;
  readonly reason: string;
}

export interface ControlResult {
  /** What happened, for a person. */
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export interface MatchReview {
  readonly a: MarketRef;
  readonly b: MarketRef;
  readonly decision: 'approve' | 'reject';
  /** approve: the relation (default: the one judged, else identical) */
  readonly relation?: Exclude<MatchRelation, 'different'>;
}

/** A control request that cannot be carried out: `status` is the HTTP status to answer with. */
export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    readonly status: 400 | 404 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

export interface ControlHandlers {
  halt(meta: ControlMeta): Promise<ControlResult>;
  resume(meta: ControlMeta): Promise<ControlResult>;
  setStrategy(strategy: string, enabled: boolean, meta: ControlMeta): Promise<ControlResult>;
  reviewMatch(review: MatchReview, meta: ControlMeta): Promise<ControlResult>;
}

export interface BusControlOptions {
  /** Absent: halt/resume/strategy controls answer 503 (nothing would hear them). */
  readonly bus: Bus | undefined;
  readonly db: Pick<Db, 'transaction'> | undefined;
  readonly clock: Clock;
  readonly matchStore: MatchStore | undefined;
  /** Names a strategy control may target. */
  readonly strategies: () => Promise<readonly string[]>;
  /** The relation judged for a pair, when one is known (an approval keeps it unless told otherwise). */
  readonly judgedRelation?: (a: MarketRef, b: MarketRef) => Promise<MatchRelation | undefined>;
}

export const issuedBy = (m: ControlMeta): string => `${m.source}:${m.actor}`;

export function createBusControl(o: BusControlOptions): ControlHandlers {
  const needBus = (what: string): Bus => {
    if (!o.bus) {
      throw new ControlError(
        503,
        `${what} needs the bus: this dashboard is not connected to the agents (set REDIS_URL for pm-arb dashboard)`,
      );
    }
    return o.bus;
  };
  const system = async (command: 'HALT_ALL' | 'RESUME', meta: ControlMeta): Promise<SystemCommand> => {
    const bus = needBus(command === 'HALT_ALL' ? 'halt' : 'resume');
    const cmd: SystemCommand = {
      type: 'system',
      command,
      reason: meta.reason,
      issuedBy: issuedBy(meta),
      issuedAt: o.clock.now(),
    };
    bus.publish(channels.system, cmd);
    await bus.flush();
    if (o.db) {
      await o.db.transaction((tx) =>
        writeSystemState(tx, {
          halted: command === 'HALT_ALL',
          haltReason: command === 'HALT_ALL' ? meta.reason : null,
          haltedBy: cmd.issuedBy,
          haltedAt: cmd.issuedAt,
        }),
      );
    }
    return cmd;
  };
  return {
    async halt(meta) {
      const cmd = await system('HALT_ALL', meta);
      return {
        message: 'HALT_ALL sent: trading agents take no new risk until resumed',
        details: { issuedAt: cmd.issuedAt },
      };
    },
    async resume(meta) {
      const cmd = await system('RESUME', meta);
      return {
        message: 'RESUME sent: trading agents take new risk again',
        details: { issuedAt: cmd.issuedAt },
      };
    },
    async setStrategy(strategy, enabled, _meta) {
      const known = await o.strategies();
      if (!known.includes(strategy)) {
        throw new ControlError(
          404,
          `unknown strategy "${strategy}"; known: ${known.join(', ') || '(none yet)'}`,
        );
      }
      const bus = needBus('a strategy control');
      bus.publish(channels.strategyControl, {
        type: 'strategy_control',
        strategy,
        enabled,
        issuedAt: o.clock.now(),
      });
      await bus.flush();
      return { message: `${strategy} ${enabled ? 'enabled' : 'disabled'}` };
    },
    async reviewMatch(r, meta) {
      if (!o.matchStore) throw new ControlError(503, 'this process has no match store');
      const at = o.clock.now();
      const note = `${r.decision === 'approve' ? 'approved' : 'rejected'} by ${issuedBy(meta)}: ${meta.reason}`;
      const judged = r.decision === 'approve' && !r.relation ? await o.judgedRelation?.(r.a, r.b) : undefined;
      const relation: MatchRelation =
        r.decision === 'reject'
          ? 'different'
          : (r.relation ?? (judged && judged !== 'different' && isTradeable(judged) ? judged : 'identical'));
      // the matcher's own review API: the override wins over every stage and the pair leaves its review queue
      if (r.decision === 'approve') await approvePair(o.matchStore, r.a, r.b, { relation, note, at });
      else await rejectPair(o.matchStore, r.a, r.b, { note, at });
      const link: MarketLink = {
        type: 'link',
        a: r.a,
        b: r.b,
        relation,
        confidence: 1,
        stage: 'manual',
        reasons: [r.decision === 'approve' ? 'manually approved' : 'manually rejected', note],
        decidedAt: at,
      };
      if (o.bus) {
        o.bus.publish(channels.links, link);
        await o.bus.flush();
      }
      return {
        message: `${r.a.venue}:${r.a.marketId} and ${r.b.venue}:${r.b.marketId} ${r.decision === 'approve' ? `linked as ${relation}` : 'kept apart'}`,
        details: { relation, published: o.bus !== undefined },
      };
    },
  };
}

const RELATIONS: readonly string[] = ['identical', 'inverted', 'implies', 'exclusive'];
const isTradeable = (r: string): r is Exclude<MatchRelation, 'different'> => RELATIONS.includes(r);

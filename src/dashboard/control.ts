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
import { type ConfirmResult, confirmCommand, type HaltStore } from '../core/halt.ts';
import type { MarketLink, MarketRef, MatchRelation, SystemCommand } from '../core/messages.ts';
import { signed } from '../core/signing.ts';
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
  /** The Redis halt key, written with the store before the command goes out. */
  readonly haltStore?: Pick<HaltStore, 'write'>;
  /** Signs system commands (CONTROL_SIGNING_KEY). */
  readonly controlKey?: string | undefined;
  /**
   * Halt/resume wait for the trading agents named by `expected` (`agent@instance`) to confirm, at most
   * `timeoutMs`; nobody expected, or anyone silent, fails the request with their names (503).
   */
  readonly confirm?: {
    readonly expected: () => Promise<readonly string[]> | readonly string[];
    readonly timeoutMs: number;
    readonly group: string;
  };
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
  const system = async (
    command: 'HALT_ALL' | 'RESUME',
    meta: ControlMeta,
  ): Promise<{ cmd: SystemCommand; confirm?: ConfirmResult }> => {
    const bus = needBus(command === 'HALT_ALL' ? 'halt' : 'resume');
    const unsigned: SystemCommand = {
      type: 'system',
      command,
      reason: meta.reason,
      issuedBy: issuedBy(meta),
      issuedAt: o.clock.now(),
    };
    const cmd = o.controlKey ? signed(unsigned, o.controlKey) : unsigned;
    const halted = command === 'HALT_ALL';
    // durable first: an agent that starts (or reconnects) after this reads it even if the message is lost
    if (o.db) {
      await o.db.transaction((tx) =>
        writeSystemState(tx, {
          halted,
          haltReason: halted ? meta.reason : null,
          haltedBy: cmd.issuedBy,
          haltedAt: cmd.issuedAt,
        }),
      );
    }
    await o.haltStore?.write({
      halted,
      reason: halted ? meta.reason : null,
      by: cmd.issuedBy,
      at: cmd.issuedAt,
    });
    if (!o.confirm) {
      bus.publish(channels.system, cmd);
      await bus.flush();
      return { cmd };
    }
    const res = await confirmCommand(bus, cmd, o.confirm);
    const recorded = o.db || o.haltStore ? ' (the state is recorded: agents that start later read it)' : '';
    if (res.confirmed.length === 0 && res.missing.length === 0) {
      throw new ControlError(
        503,
        `${command} sent but nobody confirmed it: no trading agent is running${recorded}`,
      );
    }
    if (res.missing.length > 0) {
      throw new ControlError(
        503,
        `${command} not confirmed within ${o.confirm.timeoutMs} ms by ${res.missing.join(', ')}` +
          (res.confirmed.length > 0 ? `; confirmed by ${res.confirmed.join(', ')}` : '') +
          recorded,
      );
    }
    return { cmd, confirm: res };
  };
  const confirmedBy = (c: ConfirmResult | undefined): string =>
    c ? ` (confirmed by ${c.confirmed.join(', ')})` : '';
  return {
    async halt(meta) {
      const { cmd, confirm } = await system('HALT_ALL', meta);
      return {
        message: `HALT_ALL ${confirm ? 'confirmed' : 'sent'}: trading agents take no new risk until resumed${confirmedBy(confirm)}`,
        details: { issuedAt: cmd.issuedAt, ...(confirm ? { confirmed: confirm.confirmed } : {}) },
      };
    },
    async resume(meta) {
      const { cmd, confirm } = await system('RESUME', meta);
      return {
        message: `RESUME ${confirm ? 'confirmed' : 'sent'}: trading agents take new risk again${confirmedBy(confirm)}`,
        details: { issuedAt: cmd.issuedAt, ...(confirm ? { confirmed: confirm.confirmed } : {}) },
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

/**
 * The read API: JSON under /api, every list paginated on the server. Amounts are exact decimal strings in dollars
 * (fields ending in `Usd`), prices and share counts exact decimal strings too (`price`, `mark`, `shares`), times
 * epoch milliseconds. Formatting for people is the page's business.
 *
 *   GET /api/status                      process, halt state, latest equity (every page's header)
 *   GET /api/portfolio                   equity now, since start, today vs the daily-loss limit, drawdown vs the
 *                                        ratchet stop, exposure per venue, per-day figures
 *   GET /api/portfolio/equity            equity curve with high-water mark and stop level (?since ?until ?points)
 *   GET /api/positions                   ?status=open|closed ?strategy ?venue ?limit ?offset
 *   GET /api/opportunities               ?kind ?strategy ?venue ?outcome=traded|rejected|expired ?since ?cursor
 *                                        ?limit
 *   GET /api/fills                       ?strategy ?venue ?kind ?since ?cursor ?limit
 *   GET /api/decisions                   ?rule ?verdict ?strategy ?since ?cursor ?limit
 *   GET /api/decisions/by-rule           ?since
 *   GET /api/decisions/timeline          ?since ?until ?buckets
 *   GET /api/strategies                  leaderboard with allocation and enabled state
 *   GET /api/strategies/allocations      allocation per strategy over time (?since ?until ?points)
 *   GET /api/risk                        each limit's usage vs its limit, halt state (who/when/why), last actions
 *   GET /api/audit                       control actions, newest first (?action ?cursor ?limit)
 *   GET /api/matches                     links (?relation ?stage ?search ?limit ?offset)
 *   GET /api/matches/review              the review queue
 *   GET /api/matches/pair?a=&b=          both markets (question, rules, outcomes), link, verdicts, override
 *   GET /api/agents                      agents (state, heartbeat age), feeds (connection, staleness, msgs/s),
 *                                        dead-letter counts
 *   GET /api/dead-letters                recent dead letters (?channel)
 *   GET /api/alerts/settings             alert settings (stored, else the catalog default)
 *   GET /api/alerts/log                  ?level ?cursor ?limit
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { channels, type DeadLetter } from '../core/channels.ts';
import { OracleSourceSchema, VENUES } from '../core/messages.ts';
import { formatUsd, MICRO, mulDiv, notional, toDecimal } from '../core/money.ts';
import { reviewQueue } from '../matcher/review.ts';
import { pairKey } from '../matcher/store.ts';
import { dailyLossLimit, drawdownLimit, platformLimit, positionLimit } from '../risk/rules.ts';
import type { Db } from '../store/db.ts';
import { decisionsByRule, latestAllocation, latestEquity, leaderboard } from '../store/queries.ts';
import {
  agentRows,
  alertLogPage,
  alertSettingRows,
  allocationSeries,
  allocationSpan,
  controlActionsPage,
  dailyFigures,
  decisionsPage,
  decisionTimeline,
  equitySeries,
  equitySpan,
  exposure,
  fillsPage,
  firstDecisionAt,
  latestHeartbeatOf,
  linkByPair,
  linksPage,
  marketDetail,
  marketNames,
  openOrderCount,
  opportunitiesPage,
  positionsPage,
  tokenLabels,
} from '../store/report-queries.ts';
import { dailyWindowStart, readSystemState, type SystemState } from '../store/system-state.ts';
import type { DashboardContext, RouteGroup } from './context.ts';
import { P, parseRef, query } from './params.ts';
import { problem } from './security.ts';

const usd = (m: number): string => toDecimal(m);
const dec = (m: number): string => toDecimal(m);
const BPS = 10_000;
/** used / limit in basis points (0 when the limit is 0). */
const bpsOf = (used: number, limit: number): number => (limit > 0 ? mulDiv(used, BPS, limit, 'floor') : 0);

/** Heartbeats older than this mark an agent stale. */
const AGENT_STALE_MS = 15_000;

/** The risk guardian's equity, high-water mark and day-start equity from its last heartbeat, if fresh. */
async function guardianView(
  db: Db,
  t: number,
): Promise<{ equity: number; highWaterMark: number; dailyStartEquity: number } | null> {
  const hb = await latestHeartbeatOf(db, 'risk-guardian');
  if (hb === null || hb.state !== 'running' || t - hb.ts > AGENT_STALE_MS) return null;
  const { equity, highWaterMark, dailyStartEquity } = hb.details;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  if (!ok(equity) || !ok(highWaterMark) || !ok(dailyStartEquity) || highWaterMark <= 0) return null;
  return { equity, highWaterMark, dailyStartEquity };
}

export class NoStoreError extends Error {
  override name = 'NoStoreError';
}

function needDb(ctx: DashboardContext) {
  if (!ctx.db) {
    throw new NoStoreError(
      'this process keeps no store (pm-arb run --no-store): the dashboard shows stored data only; run without --no-store',
    );
  }
  return ctx.db;
}

const legView =
  (names: Map<string, { question: string }>) =>
  (l: {
    venue: string;
    marketId: string;
    tokenId: string;
    side: string;
    limitPrice: number;
    shares: number;
  }) => ({
    venue: l.venue,
    marketId: l.marketId,
    tokenId: l.tokenId,
    question: names.get(`${l.venue}:${l.marketId}`)?.question ?? null,
    side: l.side,
    limitPrice: dec(l.limitPrice),
    shares: dec(l.shares),
  });

/**
 * Equity when today's daily-loss window opened: the stored figure while its window is today's; a window that
 * closed (a system stopped since yesterday) means nothing was won or lost today yet.
 */
function dayStartEquity(state: SystemState, equity: number, now: number, resetHourUtc: number): number {
  const today = dailyWindowStart(now, resetHourUtc);
  return state.dailyWindowStart === today && state.dailyStartEquity !== null
    ? state.dailyStartEquity
    : equity;
}

async function haltState(ctx: DashboardContext) {
  const s = await readSystemState(needDb(ctx));
  return { halted: s.halted, reason: s.haltReason, by: s.haltedBy, at: s.haltedAt };
}

export const readApi: RouteGroup = {
  name: 'read-api',
  mount(app: Hono, ctx: DashboardContext) {
    const cfg = ctx.config;
    const now = (): number => ctx.clock.now();

    app.get('/api/status', async (c) => {
      query(c, {});
      const db = ctx.db;
      const eq = db ? await latestEquity(db) : null;
      return c.json({
        now: now(),
        role: ctx.info.role,
        paper: cfg.paperTrading,
        feeds: ctx.info.feeds ?? null,
        transport: ctx.info.transport,
        store: ctx.info.store,
        live: ctx.live.live,
        halt: db ? await haltState(ctx) : null,
        equity: eq
          ? {
              ts: eq.ts,
              equityUsd: usd(eq.equity),
              cashUsd: usd(eq.cash),
              pnlUsd: usd(eq.equity - cfg.risk.initialBankroll),
            }
          : null,
        controlTokenAt: ctx.info.controlTokenAt,
      });
    });

    app.get('/api/portfolio', async (c) => {
      query(c, {});
      const db = needDb(ctx);
      const [eq, state, exp, days, span] = [
        await latestEquity(db),
        await readSystemState(db),
        await exposure(db),
        await dailyFigures(db, cfg.risk.dailyLossResetHourUtc, 31),
        await equitySpan(db),
      ];
      const bankroll = cfg.risk.initialBankroll;
      const equity = eq?.equity ?? bankroll;
      const hwm = Math.max(state.highWaterMark ?? equity, eq?.highWaterMark ?? equity);
      const ddLimit = drawdownLimit(hwm, cfg.risk);
      const startEquity = dayStartEquity(state, equity, now(), cfg.risk.dailyLossResetHourUtc);
      const dayPnl = equity - startEquity;
      const dlLimit = dailyLossLimit(startEquity, cfg.risk);
      const firstDay = span ? days.at(-1)?.day : undefined;
      return c.json({
        asOf: eq?.ts ?? null,
        initialBankrollUsd: usd(bankroll),
        equityUsd: usd(equity),
        cashUsd: usd(eq?.cash ?? bankroll),
        positionsValueUsd: usd(eq?.positionsValue ?? 0),
        realizedPnlUsd: usd(eq?.realizedPnl ?? 0),
        unrealizedPnlUsd: usd(eq?.unrealizedPnl ?? 0),
        sinceStart: { pnlUsd: usd(equity - bankroll), returnBps: bpsOf(equity - bankroll, bankroll) },
        today: {
          windowStart: state.dailyWindowStart,
          startEquityUsd: usd(startEquity),
          pnlUsd: usd(dayPnl),
          lossUsd: usd(Math.max(0, -dayPnl)),
          limitUsd: usd(dlLimit),
          usedBps: bpsOf(Math.max(0, -dayPnl), dlLimit),
        },
        drawdown: {
          highWaterMarkUsd: usd(hwm),
          drawdownUsd: usd(Math.max(0, hwm - equity)),
          limitUsd: usd(ddLimit),
          stopLevelUsd: usd(hwm - ddLimit),
          limitBps: cfg.risk.drawdownLimitBps,
          usedBps: bpsOf(Math.max(0, hwm - equity), ddLimit),
        },
        venues: VENUES.map((venue) => {
          const v = exp.venues.find((x) => x.venue === venue);
          return {
            venue,
            costUsd: usd(v?.cost ?? 0),
            valueUsd: usd(v?.value ?? 0),
            unrealizedPnlUsd: usd(v?.unrealized ?? 0),
            positions: v?.positions ?? 0,
            limitUsd: usd(platformLimit(cfg.risk)),
          };
        }),
        days: days.map((d, i) => {
          const prev = days[i + 1];
          const base = prev ? prev.endEquity : d.day === firstDay ? bankroll : null;
          return {
            day: d.day,
            endEquityUsd: usd(d.endEquity),
            pnlUsd: base === null ? null : usd(d.endEquity - base),
            fills: d.fills,
            feesUsd: usd(d.fees),
          };
        }),
      });
    });

    app.get('/api/portfolio/equity', async (c) => {
      const p = query(c, { since: P.since, until: P.until, points: P.points });
      const db = needDb(ctx);
      const span = await equitySpan(db);
      // by default the curve spans the stored history, so a short history is not squeezed into a few buckets
      const since = p.since ?? span?.first ?? now();
      const until = p.until ?? span?.last ?? now();
      const points = span ? await equitySeries(db, since, until, p.points ?? 600) : [];
      return c.json({
        since,
        until,
        drawdownLimitBps: cfg.risk.drawdownLimitBps,
        initialBankrollUsd: usd(cfg.risk.initialBankroll),
        points: points.map((x) => {
          const stop = x.highWaterMark - drawdownLimit(x.highWaterMark, cfg.risk);
          const dd = Math.max(0, x.highWaterMark - x.equity);
          return {
            ts: x.ts,
            equityUsd: usd(x.equity),
            cashUsd: usd(x.cash),
            highWaterMarkUsd: usd(x.highWaterMark),
            stopLevelUsd: usd(stop),
            drawdownUsd: usd(dd),
            drawdownBps: bpsOf(dd, x.highWaterMark),
          };
        }),
      });
    });

    app.get('/api/positions', async (c) => {
      const p = query(c, {
        status: P.status,
        strategy: P.strategy,
        venue: P.venue,
        limit: P.limit,
        offset: P.offset,
      });
      const db = needDb(ctx);
      const page = await positionsPage(db, {
        status: p.status ?? 'open',
        ...(p.strategy ? { strategy: p.strategy } : {}),
        ...(p.venue ? { venue: p.venue } : {}),
        limit: p.limit ?? 50,
        offset: p.offset ?? 0,
      });
      const names = await marketNames(db, page.rows);
      const labels = await tokenLabels(db, page.rows);
      const t = now();
      return c.json({
        total: page.total,
        rows: page.rows.map((x) => {
          const m = names.get(`${x.venue}:${x.marketId}`);
          const lab = labels.get(`${x.venue}:${x.tokenId}`);
          return {
            venue: x.venue,
            marketId: x.marketId,
            tokenId: x.tokenId,
            question: m?.question ?? null,
            outcome: lab?.label ?? null,
            side: lab?.side ?? null,
            strategy: x.strategy || null,
            shares: dec(x.shares),
            avgPrice: x.shares > 0 ? dec(mulDiv(x.costBasis, MICRO, x.shares, 'round')) : null,
            mark: dec(x.mark),
            costBasisUsd: usd(x.costBasis),
            valueUsd: usd(notional(x.mark, x.shares)),
            unrealizedPnlUsd: usd(x.unrealizedPnl),
            realizedPnlUsd: usd(x.realizedPnl),
            endTime: m?.endTime ?? null,
            timeToResolutionMs: m?.endTime != null ? m.endTime - t : null,
            marketStatus: m?.status ?? null,
            ts: x.ts,
          };
        }),
      });
    });

    app.get('/api/opportunities', async (c) => {
      const p = query(c, {
        kind: P.kind,
        strategy: P.strategy,
        venue: P.venue,
        outcome: P.outcome,
        since: P.since,
        cursor: P.cursor,
        limit: P.limit,
      });
      const db = needDb(ctx);
      const page = await opportunitiesPage(db, { ...p, now: now() });
      const names = await marketNames(
        db,
        page.rows.flatMap((r) => r.legs),
      );
      return c.json({
        total: page.total,
        totalCapped: page.totalCapped,
        next: page.next,
        rows: page.rows.map((r) => ({
          id: r.id,
          kind: r.kind,
          detectedAt: r.detectedAt,
          expiresAt: r.expiresAt,
          legs: r.legs.map(legView(names)),
          edgeUsd: usd(r.edge),
          edgeBps: r.edgeBps,
          costUsd: usd(r.cost),
          feesUsd: usd(r.fees),
          shares: dec(r.shares),
          signal: r.signal,
          note: r.note,
          outcomes: r.outcomes,
        })),
      });
    });

    app.get('/api/fills', async (c) => {
      const p = query(c, {
        strategy: P.strategy,
        venue: P.venue,
        kind: P.fillKind,
        since: P.since,
        cursor: P.cursor,
        limit: P.limit,
      });
      const db = needDb(ctx);
      const page = await fillsPage(db, p);
      const names = await marketNames(db, page.rows);
      const labels = await tokenLabels(db, page.rows);
      return c.json({
        total: page.total,
        totalCapped: page.totalCapped,
        next: page.next,
        rows: page.rows.map((f) => ({
          id: f.id,
          ts: f.ts,
          strategy: f.strategy,
          venue: f.venue,
          marketId: f.marketId,
          question: names.get(`${f.venue}:${f.marketId}`)?.question ?? null,
          tokenId: f.tokenId,
          outcome: labels.get(`${f.venue}:${f.tokenId}`)?.label ?? null,
          side: f.side,
          price: dec(f.price),
          shares: dec(f.shares),
          notionalUsd: usd(notional(f.price, f.shares)),
          feeUsd: usd(f.fee),
          liquidity: f.liquidity,
          kind: f.kind,
          orderId: f.orderId,
          requestId: f.requestId,
        })),
      });
    });

    app.get('/api/decisions', async (c) => {
      const p = query(c, {
        rule: P.rule,
        verdict: P.verdict,
        strategy: P.strategy,
        since: P.since,
        cursor: P.cursor,
        limit: P.limit,
      });
      const db = needDb(ctx);
      const page = await decisionsPage(db, p);
      const names = await marketNames(
        db,
        page.rows.flatMap((r) => r.legs),
      );
      return c.json({
        total: page.total,
        totalCapped: page.totalCapped,
        next: page.next,
        rows: page.rows.map((d) => ({
          id: d.id,
          requestId: d.requestId,
          strategy: d.strategy,
          verdict: d.verdict,
          rule: d.rule,
          reason: d.reason,
          decidedAt: d.decidedAt,
          legs: d.legs.map(legView(names)),
        })),
      });
    });

    app.get('/api/decisions/by-rule', async (c) => {
      const p = query(c, { since: P.since });
      return c.json({ rows: await decisionsByRule(needDb(ctx), p.since ?? 0) });
    });

    app.get('/api/decisions/timeline', async (c) => {
      const p = query(c, { since: P.since, until: P.until, buckets: P.buckets });
      const db = needDb(ctx);
      const until = p.until ?? now();
      // default: the last hour, or since the first decision when the history is shorter
      const first = (await firstDecisionAt(db)) ?? 0;
      const since = p.since ?? Math.min(until - 60_000, Math.max(until - 3_600_000, first));
      if (since >= until) return problem(c, 400, `since (${since}) must be before until (${until})`);
      return c.json({ since, until, ...(await decisionTimeline(db, since, until, p.buckets ?? 60)) });
    });

    app.get('/api/strategies', async (c) => {
      query(c, {});
      const db = needDb(ctx);
      const [board, alloc, agents] = [
        await leaderboard(db),
        await latestAllocation(db),
        await agentRows(db, now()),
      ];
      const enabled = new Map<string, boolean>();
      for (const a of agents) {
        for (const [k, v] of Object.entries(a.details)) {
          if (k.startsWith('enabled.') && typeof v === 'boolean') enabled.set(k.slice(8), v);
        }
      }
      const names = [...new Set([...(await ctx.strategies()), ...board.map((b) => b.strategy)])].sort();
      const ranked = names.map((s) => ({
        s,
        b: board.find((x) => x.strategy === s),
        score: alloc?.scores[s],
      }));
      // leaderboard order: tournament score, then P&L (exact integers), then name
      ranked.sort(
        (x, y) =>
          (y.score ?? Number.NEGATIVE_INFINITY) - (x.score ?? Number.NEGATIVE_INFINITY) ||
          (y.b?.pnl ?? 0) - (x.b?.pnl ?? 0) ||
          x.s.localeCompare(y.s),
      );
      const rows = ranked.map(({ s, b, score }) => {
        const decided = b ? b.wins + b.losses : 0;
        const allocation = alloc?.allocations[s];
        return {
          strategy: s,
          enabled: enabled.get(s) ?? null,
          score: score ?? null,
          allocationUsd: allocation !== undefined ? usd(allocation) : null,
          pnlUsd: usd(b?.pnl ?? 0),
          sharpe: b?.sharpe ?? null,
          maxDrawdownUsd: usd(b?.maxDrawdown ?? 0),
          trades: b?.trades ?? 0,
          wins: b?.wins ?? 0,
          losses: b?.losses ?? 0,
          winRate: b && decided > 0 ? b.wins / decided : null,
          ts: b?.ts ?? null,
        };
      });
      return c.json({ allocationAt: alloc?.ts ?? null, rows });
    });

    app.get('/api/strategies/allocations', async (c) => {
      const p = query(c, { since: P.since, until: P.until, points: P.points });
      const db = needDb(ctx);
      const span = await allocationSpan(db);
      const since = p.since ?? span?.first ?? now();
      const until = p.until ?? span?.last ?? now();
      const series = span && since <= until ? await allocationSeries(db, since, until, p.points ?? 300) : [];
      return c.json({
        until: now(),
        points: series.map((s) => ({
          ts: s.ts,
          allocations: Object.fromEntries(Object.entries(s.allocations).map(([k, v]) => [k, usd(v)])),
        })),
      });
    });

    app.get('/api/risk', async (c) => {
      query(c, {});
      const db = needDb(ctx);
      const [state, eq, exp, open, actions] = [
        await readSystemState(db),
        await latestEquity(db),
        await exposure(db),
        await openOrderCount(db),
        await controlActionsPage(db, { limit: 10 }),
      ];
      const r = cfg.risk;
      const equity = eq?.equity ?? r.initialBankroll;
      const hwm = Math.max(state.highWaterMark ?? equity, eq?.highWaterMark ?? equity);
      const startEquity = dayStartEquity(state, equity, now(), r.dailyLossResetHourUtc);
      // The drawdown and daily-loss limits as the risk guardian enforces them: its risk equity (positions at the
      // best bid, bounded by what settlement pays) with its own high-water mark and day start, from its last
      // heartbeat while that is fresh; otherwise the ledger's equity above.
      const g = await guardianView(db, now());
      const ddHwm = g?.highWaterMark ?? hwm;
      const ddEquity = g?.equity ?? equity;
      const dayStart = g?.dailyStartEquity ?? startEquity;
      const guardianNote = g ? `the risk guardian's: risk equity ${formatUsd(g.equity)}` : null;
      const worstMarket = exp.markets.reduce<(typeof exp.markets)[number] | undefined>(
        (w, m) => (!w || m.cost > w.cost ? m : w),
        undefined,
      );
      const money = (key: string, label: string, used: number, limit: number, detail: string | null) => ({
        key,
        label,
        unit: 'usd' as const,
        used: usd(used),
        limit: usd(limit),
        usedBps: bpsOf(used, limit),
        detail,
      });
      const limits = [
        money(
          'position',
          'Largest position in one market',
          worstMarket?.cost ?? 0,
          positionLimit(r),
          worstMarket ? `${worstMarket.venue}:${worstMarket.marketId}` : null,
        ),
        ...VENUES.map((v) =>
          money(
            `platform:${v}`,
            `Exposure on ${v}`,
            exp.venues.find((x) => x.venue === v)?.cost ?? 0,
            platformLimit(r),
            null,
          ),
        ),
        money(
          'drawdown',
          'Drawdown from the high-water mark',
          Math.max(0, ddHwm - ddEquity),
          drawdownLimit(ddHwm, r),
          guardianNote && `${guardianNote}, high-water mark ${formatUsd(ddHwm)}`,
        ),
        money(
          'daily_loss',
          'Loss today',
          Math.max(0, dayStart - ddEquity),
          dailyLossLimit(dayStart, r),
          guardianNote && `${guardianNote}, at the day's start ${formatUsd(dayStart)}`,
        ),
        {
          key: 'open_orders',
          label: 'Open orders',
          unit: 'count' as const,
          used: String(open),
          limit: String(r.maxOpenOrders),
          usedBps: bpsOf(open, r.maxOpenOrders),
          detail: null,
        },
      ];
      return c.json({
        limits,
        halt: { halted: state.halted, reason: state.haltReason, by: state.haltedBy, at: state.haltedAt },
        equityUsd: usd(equity),
        highWaterMarkUsd: usd(hwm),
        stopLevelUsd: usd(hwm - drawdownLimit(hwm, r)),
        recentActions: actions.rows,
      });
    });

    app.get('/api/audit', async (c) => {
      const p = query(c, {
        action: z.enum(['halt', 'resume', 'strategy', 'match', 'alert_setting']).optional(),
        cursor: P.cursor,
        limit: P.limit,
      });
      return c.json(await controlActionsPage(needDb(ctx), p));
    });

    app.get('/api/matches', async (c) => {
      const p = query(c, {
        relation: z.enum(['identical', 'inverted', 'implies', 'exclusive', 'different']).optional(),
        stage: z.enum(['rules', 'llm', 'cache', 'manual']).optional(),
        search: P.search,
        limit: P.limit,
        offset: P.offset,
      });
      return c.json(await linksPage(needDb(ctx), p));
    });

    app.get('/api/matches/review', async (c) => {
      query(c, {});
      const store = ctx.matchStore;
      if (!store) return c.json({ rows: [], total: 0, note: 'this process has no match store' });
      // the matcher's queue, as `pm-arb matches --review` lists it (most alike first)
      const items = await reviewQueue(store);
      return c.json({
        rows: items.slice(0, 500).map((i) => ({
          id: i.id,
          a: { venue: i.a.venue, marketId: i.a.marketId },
          b: { venue: i.b.venue, marketId: i.b.marketId },
          aQuestion: i.a.question,
          bQuestion: i.b.question,
          relation: i.relation,
          confidence: i.confidence,
          stage: i.stage,
          reasons: i.reasons,
          why: i.relation === 'undetermined' ? 'undetermined' : 'low_confidence',
          similarity: i.similarity,
          queuedAt: i.queuedAt,
        })),
        total: items.length,
      });
    });

    app.get('/api/matches/pair', async (c) => {
      const p = query(c, { a: P.ref, b: P.ref });
      const a = parseRef(p.a);
      const b = parseRef(p.b);
      const db = needDb(ctx);
      const [ma, mb] = [
        await marketDetail(db, a.venue, a.marketId),
        await marketDetail(db, b.venue, b.marketId),
      ];
      if (!ma && !mb) return problem(c, 404, `neither ${p.a} nor ${p.b} is a known market`);
      const k = pairKey(a, b);
      const store = ctx.matchStore;
      const verdicts = store ? (await store.listVerdicts()).filter((v) => pairKey(v.a, v.b) === k) : [];
      const override = store ? (await store.listOverrides()).find((o) => pairKey(o.a, o.b) === k) : undefined;
      const link = await linkByPair(db, a, b);
      return c.json({ a: ma, b: mb, link, verdicts, override: override ?? null });
    });

    app.get('/api/agents', async (c) => {
      query(c, {});
      const db = needDb(ctx);
      const t = now();
      const rows = await agentRows(db, t);
      const agents = rows.map((a) => ({
        agent: a.agent,
        instance: a.instance,
        state: a.state,
        host: a.host,
        pid: a.pid,
        heartbeatAt: a.ts,
        heartbeatAgeMs: Math.max(0, t - a.ts),
        stale: t - a.ts > AGENT_STALE_MS && a.state !== 'stopped',
        processed: typeof a.details.processed === 'number' ? a.details.processed : null,
        failed: typeof a.details.failed === 'number' ? a.details.failed : null,
        details: a.details,
      }));
      const feeds = rows
        .filter((a) => 'connected' in a.details)
        .map((a) => {
          const frames = a.details.frames;
          const prevFrames = a.previous?.details.frames;
          const rate =
            typeof frames === 'number' && typeof prevFrames === 'number' && a.previous && a.ts > a.previous.ts
              ? ((frames - prevFrames) * 1000) / (a.ts - a.previous.ts)
              : null;
          return {
            agent: a.agent,
            instance: a.instance,
            state: a.state,
            connected: a.details.connected === true,
            lastMessageAgeMs:
              typeof a.details.lastMessageAgeMs === 'number' ? a.details.lastMessageAgeMs : null,
            reconnects: typeof a.details.reconnects === 'number' ? a.details.reconnects : null,
            frames: typeof frames === 'number' ? frames : null,
            framesRejected: typeof a.details.framesRejected === 'number' ? a.details.framesRejected : null,
            staleBooks: typeof a.details.stale === 'number' ? a.details.stale : null,
            messagesPerSec: rate === null ? null : Math.round(rate * 10) / 10,
            heartbeatAgeMs: Math.max(0, t - a.ts),
          };
        });
      return c.json({ now: t, agents, feeds, deadLetters: await deadLetterCounts(ctx) });
    });

    app.get('/api/dead-letters', async (c) => {
      const p = query(c, { channel: z.string().max(100).optional(), limit: P.limit });
      if (!ctx.bus) return c.json({ rows: [], note: 'not connected to the bus' });
      const names = p.channel ? [p.channel] : deadLetterSources();
      const rows: (DeadLetter & { deadLetterChannel: string })[] = [];
      for (const n of names) {
        for (const e of await ctx.bus.history(channels.deadLetter(n), p.limit ?? 50)) {
          rows.push({ ...e.body, deadLetterChannel: channels.deadLetter(n).name });
        }
      }
      rows.sort((x, y) => y.ts - x.ts);
      return c.json({ rows: rows.slice(0, p.limit ?? 50) });
    });

    app.get('/api/alerts/settings', async (c) => {
      query(c, {});
      const stored = await alertSettingRows(needDb(ctx));
      const byKey = new Map(stored.map((s) => [s.key, s]));
      const rows = ctx.alertCatalog.map((e) => {
        const s = byKey.get(e.key);
        byKey.delete(e.key);
        return {
          key: e.key,
          description: e.description,
          value: s ? s.value : e.defaultValue,
          stored: s !== undefined,
          updatedAt: s?.updatedAt ?? null,
        };
      });
      for (const s of byKey.values()) {
        rows.push({ key: s.key, description: '', value: s.value, stored: true, updatedAt: s.updatedAt });
      }
      return c.json({ rows });
    });

    app.get('/api/alerts/log', async (c) => {
      const p = query(c, { level: P.level, cursor: P.cursor, limit: P.limit });
      return c.json(await alertLogPage(needDb(ctx), p));
    });
  },
};

/** Channels whose dead letters are counted (every channel agents consume). */
export function deadLetterSources(): string[] {
  return [
    ...VENUES.flatMap((v) => [channels.markets(v).name, channels.books(v).name, channels.trades(v).name]),
    ...OracleSourceSchema.options.map((s) => channels.ticks(s).name),
    ...[
      channels.resolutions,
      channels.links,
      channels.oracleLinks,
      channels.opportunities,
      channels.tradeRequests,
      channels.riskDecisions,
      channels.orders,
      channels.fills,
      channels.executions,
      channels.positions,
      channels.equity,
      channels.performance,
      channels.allocations,
      channels.system,
      channels.strategyControl,
      channels.health,
      channels.alerts,
    ].map((ch) => ch.name),
  ];
}

/** Dead letters retained per source channel (the bus keeps the most recent; `capped` when at the cap). */
async function deadLetterCounts(ctx: DashboardContext) {
  if (!ctx.bus) return { available: false, total: 0, channels: [] };
  const CAP = 1_000;
  const out: {
    channel: string;
    count: number;
    capped: boolean;
    lastError: string | null;
    lastAt: number | null;
  }[] = [];
  for (const name of deadLetterSources()) {
    const h = await ctx.bus.history(channels.deadLetter(name), CAP);
    if (h.length === 0) continue;
    const last = h.at(-1)!.body;
    out.push({
      channel: name,
      count: h.length,
      capped: h.length >= CAP,
      lastError: last.error,
      lastAt: last.ts,
    });
  }
  return { available: true, total: out.reduce((s, x) => s + x.count, 0), channels: out };
}

/** Maps known failures to answers: a missing store is 503. */
export function storeProblem(c: Context, err: unknown): Response | undefined {
  if (err instanceof NoStoreError) return problem(c, 503, err.message);
  return undefined;
}

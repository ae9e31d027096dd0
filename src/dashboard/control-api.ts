/**
 * The control API: every route under /api/control needs the control token (Authorization: Bearer), a JSON body
 * and a same-origin (or browserless) request; each action is recorded in control_actions — who (the actor named
 * in the request, the source and address), when, why, and whether it worked — and announced to live pages.
 *
 *   GET  /api/control/whoami           200 when the token is right (the pages' "unlock" check)
 *   POST /api/control/halt             { reason, actor }
 *   POST /api/control/resume           { reason, actor }
 *   POST /api/control/strategy         { strategy, enabled, reason, actor }
 *   POST /api/control/match            { a: "venue:id", b: "venue:id", decision: approve|reject, relation?, reason, actor }
 *   POST /api/control/alert-setting    { key, value, reason?, actor }
 */
import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { setAlertSetting } from '../store/queries.ts';
import { recordControlAction } from '../store/report-queries.ts';
import type { DashboardContext, RouteGroup } from './context.ts';
import { ControlError, type ControlMeta, type ControlResult } from './control.ts';
import { body, P, parseRef } from './params.ts';
import { controlGuard, problem } from './security.ts';

const text = (what: string, max: number) =>
  z
    .string({ message: `${what} (text)` })
    .trim()
    .min(1, { message: `${what}: say why (it is recorded)` })
    .max(max, { message: `${what}: at most ${max} characters` });

const actor = z
  .string()
  .trim()
  .max(80, { message: 'at most 80 characters' })
  .refine((v) => !/\p{Cc}/u.test(v), { message: 'printable text (no control characters)' })
  .optional();

const source = z.enum(['dashboard', 'api']).optional();

const base = { reason: text('reason', 500), actor, source };

const HaltBody = z.object(base).strict();
const StrategyBody = z
  .object({ ...base, strategy: z.string().min(1).max(100), enabled: z.boolean({ message: 'true or false' }) })
  .strict();
const MatchBody = z
  .object({
    ...base,
    a: P.ref,
    b: P.ref,
    decision: z.enum(['approve', 'reject']),
    relation: z.enum(['identical', 'inverted', 'implies', 'exclusive']).optional(),
  })
  .strict()
  .refine((x) => x.decision === 'approve' || x.relation === undefined, {
    message: 'relation applies to approve only',
    path: ['relation'],
  })
  .refine((x) => x.a !== x.b, { message: 'a and b must be two different markets', path: ['b'] });
const AlertSettingBody = z
  .object({
    key: z
      .string()
      .regex(/^[a-z][a-z0-9_.-]{0,63}$/, { message: 'a key of lower-case letters, digits, _ . -' }),
    value: z.record(z.string(), z.unknown(), { message: 'a JSON object such as {"enabled": true}' }),
    reason: z.string().trim().max(500).optional(),
    actor,
    source,
  })
  .strict();

function remoteOf(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // in-memory requests (tests) have no socket
  }
}

function metaOf(
  c: Context,
  b: { reason?: string | undefined; actor?: string | undefined; source?: 'dashboard' | 'api' | undefined },
): ControlMeta {
  return {
    actor: b.actor && b.actor !== '' ? b.actor : 'anonymous',
    source: b.source ?? 'api',
    remote: remoteOf(c),
    reason: b.reason ?? '',
  };
}

export const controlApi: RouteGroup = {
  name: 'control-api',
  mount(app: Hono, ctx: DashboardContext) {
    app.use('/api/control/*', controlGuard(ctx.access));

    /** Runs a control action and records it (success or failure) with who, when and why. */
    const act = async (
      c: Context,
      action: string,
      target: string | null,
      params: Record<string, unknown>,
      meta: ControlMeta,
      run: () => Promise<ControlResult>,
    ) => {
      const at = ctx.clock.now();
      const id = `ctl-${at}-${randomBytes(4).toString('hex')}`;
      let result: ControlResult | undefined;
      let failure: unknown;
      try {
        result = await run();
      } catch (err) {
        failure = err;
      }
      const detail = result ? result.message : failure instanceof Error ? failure.message : String(failure);
      if (ctx.db) {
        await recordControlAction(ctx.db, {
          id,
          action,
          target,
          params,
          reason: meta.reason,
          actor: meta.actor,
          source: meta.source,
          remote: meta.remote,
          outcome: result ? 'ok' : 'failed',
          detail,
          at,
        });
      }
      ctx.live.notify('control');
      if (result) return c.json({ ok: true, id, at, message: result.message, ...(result.details ?? {}) });
      if (failure instanceof ControlError) return problem(c, failure.status, failure.message);
      throw failure;
    };

    app.get('/api/control/whoami', (c) =>
      c.json({ control: true, tokenAt: ctx.info.controlTokenAt, live: ctx.live.live }),
    );

    app.post('/api/control/halt', async (c) => {
      const b = await body(c, HaltBody);
      const meta = metaOf(c, b);
      return act(c, 'halt', null, {}, meta, () => ctx.control.halt(meta));
    });

    app.post('/api/control/resume', async (c) => {
      const b = await body(c, HaltBody);
      const meta = metaOf(c, b);
      return act(c, 'resume', null, {}, meta, () => ctx.control.resume(meta));
    });

    app.post('/api/control/strategy', async (c) => {
      const b = await body(c, StrategyBody);
      const meta = metaOf(c, b);
      return act(c, 'strategy', b.strategy, { enabled: b.enabled }, meta, () =>
        ctx.control.setStrategy(b.strategy, b.enabled, meta),
      );
    });

    app.post('/api/control/match', async (c) => {
      const b = await body(c, MatchBody);
      const meta = metaOf(c, b);
      const review = {
        a: parseRef(b.a),
        b: parseRef(b.b),
        decision: b.decision,
        ...(b.relation ? { relation: b.relation } : {}),
      };
      return act(
        c,
        'match',
        `${b.a} ${b.b}`,
        { decision: b.decision, ...(b.relation ? { relation: b.relation } : {}) },
        meta,
        () => ctx.control.reviewMatch(review, meta),
      );
    });

    app.post('/api/control/alert-setting', async (c) => {
      const b = await body(c, AlertSettingBody);
      const meta = metaOf(c, { ...b, reason: b.reason ?? `set ${b.key}` });
      return act(c, 'alert_setting', b.key, { value: b.value }, meta, async () => {
        if (!ctx.db)
          throw new ControlError(503, 'this process keeps no store: alert settings live in the store');
        await setAlertSetting(ctx.db, b.key, b.value, ctx.clock.now());
        ctx.live.notify('alerts');
        return { message: `alert setting ${b.key} saved` };
      });
    });
  },
};

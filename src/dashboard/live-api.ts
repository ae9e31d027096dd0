/**
 * GET /api/live: Server-Sent Events. First `hello` ({ live, now }), then `update` events (see live.ts), at most a
 * few per second; a comment line every 15 s keeps proxies from closing an idle stream. A client that reads slowly
 * gets its pending updates merged, never an unbounded queue.
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { DashboardContext, RouteGroup } from './context.ts';
import type { LiveUpdate } from './live.ts';
import { problem } from './security.ts';

const MAX_CLIENTS = 64;
const KEEPALIVE_MS = 15_000;

function merge(a: LiveUpdate, b: LiveUpdate): LiveUpdate {
  const equity = [...(a.equity ?? []), ...(b.equity ?? [])].slice(-1_000);
  const halt = b.halt ?? a.halt;
  return {
    topics: [...new Set([...a.topics, ...b.topics])],
    ...(equity.length > 0 ? { equity } : {}),
    ...(halt ? { halt } : {}),
    counts: b.counts,
  };
}

export const liveApi: RouteGroup = {
  name: 'live',
  mount(app: Hono, ctx: DashboardContext) {
    app.get('/api/live', (c) => {
      if (ctx.live.clients >= MAX_CLIENTS) {
        return problem(c, 503, `too many live connections (${MAX_CLIENTS}); close some dashboard tabs`);
      }
      return streamSSE(c, async (stream) => {
        let pending: LiveUpdate | undefined;
        let wake: (() => void) | undefined;
        let closed = false;
        const off = ctx.live.listen((u) => {
          pending = pending ? merge(pending, u) : u;
          wake?.();
        });
        stream.onAbort(() => {
          closed = true;
          off();
          wake?.();
        });
        try {
          await stream.writeSSE({
            event: 'hello',
            data: JSON.stringify({ live: ctx.live.live, now: ctx.clock.now() }),
          });
          while (!closed) {
            if (!pending) {
              const timedOut = await new Promise<boolean>((resolve) => {
                const t = setTimeout(() => resolve(true), KEEPALIVE_MS);
                wake = () => {
                  clearTimeout(t);
                  resolve(false);
                };
              });
              wake = undefined;
              if (timedOut && !closed) await stream.write(': keep-alive\n\n');
              continue;
            }
            const u = pending;
            pending = undefined;
            await stream.writeSSE({ event: 'update', data: JSON.stringify(u) });
          }
        } finally {
          off();
        }
      });
    });
  },
};

/**
 * A fake Pushover API (127.0.0.1, port 0) on the shared HTTP fake: POST /1/messages.json (form-encoded or JSON)
 * checks the token and user like the real service (400 with `status: 0` and `errors` otherwise) and that an
 * emergency message (priority 2) carries retry ≥ 30 and expire ≤ 10800; POST /1/users/validate.json checks a
 * user key. Each accepted message is kept, parsed, with the time it arrived.
 */
import { randomUUID } from 'node:crypto';
import { type FakeRequest, type HttpFake, startHttpFake } from './http-fake.ts';

export interface PushoverMessage {
  readonly token: string;
  readonly user: string;
  readonly title: string;
  readonly message: string;
  readonly priority: number;
  readonly retry?: number;
  readonly expire?: number;
  /** Date.now() when it arrived. */
  readonly at: number;
}

export interface FakePushover {
  readonly url: string;
  readonly http: HttpFake;
  readonly messages: PushoverMessage[];
  close(): Promise<void>;
}

function fields(req: FakeRequest): Record<string, string> {
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/json')) return req.json<Record<string, string>>();
  return Object.fromEntries(new URLSearchParams(req.body));
}

export async function startFakePushover(opts: { token: string; user: string }): Promise<FakePushover> {
  const http = await startHttpFake();
  const messages: PushoverMessage[] = [];
  const reject = (errors: string[]) => ({ status: 400, body: { status: 0, request: randomUUID(), errors } });
  http.route('POST', '/1/messages.json', (req) => {
    const f = fields(req);
    if (f.token !== opts.token) return reject(['application token is invalid']);
    if (f.user !== opts.user)
      return reject(['user identifier is not a valid user, group, or subscribed user key']);
    if (!f.message) return reject(['message cannot be blank']);
    const priority = Number(f.priority ?? 0);
    if (priority === 2) {
      if (!f.retry || Number(f.retry) < 30) return reject(['retry is invalid (must be at least 30 seconds)']);
      if (!f.expire || Number(f.expire) > 10_800) return reject(['expire must be supplied with priority=2']);
    }
    messages.push({
      token: f.token,
      user: f.user,
      title: f.title ?? '',
      message: f.message,
      priority,
      ...(f.retry ? { retry: Number(f.retry) } : {}),
      ...(f.expire ? { expire: Number(f.expire) } : {}),
      at: Date.now(),
    });
    return {
      body: { status: 1, request: randomUUID(), ...(priority === 2 ? { receipt: randomUUID() } : {}) },
    };
  });
  http.route('POST', '/1/users/validate.json', (req) => {
    const f = fields(req);
    if (f.token !== opts.token) return reject(['application token is invalid']);
    if (f.user !== opts.user) return reject(['user key is invalid']);
    return { body: { status: 1, request: randomUUID(), devices: ['phone'] } };
  });
  return { url: http.url, http, messages, close: () => http.close() };
}

/** A fake incoming webhook (Slack/Discord style): POST /hook answers 200 "ok" and keeps each JSON body. */
export async function startFakeWebhook(): Promise<{
  readonly url: string;
  readonly http: HttpFake;
  readonly bodies: { body: Record<string, unknown>; at: number }[];
  close(): Promise<void>;
}> {
  const http = await startHttpFake();
  const bodies: { body: Record<string, unknown>; at: number }[] = [];
  http.route('POST', '/hook', (req) => {
    bodies.push({ body: req.json<Record<string, unknown>>(), at: Date.now() });
    return { raw: 'ok', headers: { 'content-type': 'text/plain' } };
  });
  return { url: `${http.url}/hook`, http, bodies, close: () => http.close() };
}

/**
 * A local fake of the Anthropic Messages API (POST /v1/messages) on 127.0.0.1, port 0, so tests drive the real
 * @anthropic-ai/sdk code path. Each request body is recorded; the answer comes from a responder chosen per test,
 * or from a queue of one-off replies (429/500 with retry-after-ms, malformed bodies) served first.
 *
 * Usage is reported the way the real API does it, so cost accounting and prompt caching can be tested: input
 * tokens are the request's characters / 4; a system block marked with cache_control is a cache write the first
 * time its text is seen and a cache read afterwards (cache_creation_input_tokens / cache_read_input_tokens).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  // biome-ignore lint/suspicious/noExplicitAny: a recorded JSON body, inspected loosely by tests
  readonly body: any;
}

export interface FakeReply {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** output tokens to report (default 40 per verdict) */
  readonly outputTokens?: number;
}

export type Responder = (req: FakeRequest) => FakeReply;

export interface FakeAnthropic {
  readonly url: string;
  readonly requests: FakeRequest[];
  respond(fn: Responder): void;
  /** Replies served, in order, before the responder. */
  queue(...replies: FakeReply[]): void;
  close(): Promise<void>;
}

const envelope = (content: unknown[], stop: string, model = 'claude-fake') => ({
  id: 'msg_fake',
  type: 'message',
  role: 'assistant',
  model,
  content,
  stop_reason: stop,
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 10 },
});

export interface FakeVerdict {
  readonly pair?: number;
  readonly same_event?: boolean;
  readonly relation: string;
  readonly confidence: number;
  readonly quotes_a?: readonly string[];
  readonly quotes_b?: readonly string[];
  readonly resolution_differences?: readonly string[];
  readonly reasoning?: string;
}

/** A forced tool call carrying `input` as it is (for malformed inputs). */
export const toolInput = (input: unknown): FakeReply => ({
  body: envelope([{ type: 'tool_use', id: 'toolu_1', name: 'report_match_verdicts', input }], 'tool_use'),
});
/** A forced tool call with one verdict per pair (numbered 1, 2 … unless given). */
export const toolAnswer = (...verdicts: FakeVerdict[]): FakeReply =>
  toolInput({
    verdicts: verdicts.map((v, i) => ({
      pair: i + 1,
      same_event: true,
      quotes_a: [],
      quotes_b: [],
      resolution_differences: [],
      ...v,
    })),
  });
export const textAnswer = (text: string): FakeReply => ({
  body: envelope([{ type: 'text', text }], 'end_turn'),
});
export const refusal = (): FakeReply => ({ body: envelope([], 'refusal') });
export const apiError = (status: number, headers?: Record<string, string>): FakeReply => ({
  status,
  body: {
    type: 'error',
    error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message: 'fake failure' },
  },
  ...(headers ? { headers } : {}),
});

/** One pair of a request, as the prompt shows it. */
export interface PromptPair {
  readonly n: number;
  readonly a: string;
  readonly b: string;
}

/** Splits a request's prompt into its numbered pairs (market A's and B's text each). */
export function promptPairs(req: FakeRequest): PromptPair[] {
  const text = String(req.body?.messages?.[0]?.content ?? '');
  const out: PromptPair[] = [];
  // [preamble, n1, body1, n2, body2, …]
  const parts = text.split(/^=== Pair (\d+) ===$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const body = parts[i + 1]!;
    const b = body.indexOf('\nMarket B (');
    out.push({ n: Number(parts[i]), a: body.slice(0, b), b: body.slice(b) });
  }
  return out;
}

/** The question line of a market's text in a prompt. */
export const questionOf = (sheet: string): string => /Question: (.*)/.exec(sheet)?.[1] ?? '';

/** Answers every pair of each request with `fn` (quotes default to both questions, which are in the texts). */
export function judgeEach(fn: (p: PromptPair) => FakeVerdict): Responder {
  return (req) =>
    toolAnswer(
      ...promptPairs(req).map((p) => ({
        quotes_a: [questionOf(p.a)],
        quotes_b: [questionOf(p.b)],
        ...fn(p),
        pair: p.n,
      })),
    );
}

/**
 * `apiKey`: when given, GET /v1/models/{id} answers 401 to any other key (x-api-key or bearer) (the messages route never
 * checks, as before). `models`: the model ids GET /v1/models/{id} knows (default: any).
 */
export async function startFakeAnthropic(
  initial?: Responder,
  opts: { apiKey?: string; models?: readonly string[] } = {},
): Promise<FakeAnthropic> {
  let responder: Responder = initial ?? (() => textAnswer('no responder set'));
  const queued: FakeReply[] = [];
  const requests: FakeRequest[] = [];
  const cached = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const r: FakeRequest = { path: req.url ?? '', headers: req.headers, body };
      requests.push(r);
      const model = /^\/v1\/models\/([^/?]+)/.exec(r.path);
      if (req.method === 'GET' && model) {
        const id = decodeURIComponent(model[1]!);
        const send = (status: number, b: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(b));
        };
        // the SDK sends the key as x-api-key or as a bearer token, by version
        const key = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
        if (opts.apiKey !== undefined && key !== opts.apiKey)
          return send(401, {
            type: 'error',
            error: { type: 'authentication_error', message: 'invalid x-api-key' },
          });
        if (opts.models && !opts.models.includes(id))
          return send(404, { type: 'error', error: { type: 'not_found_error', message: `model: ${id}` } });
        return send(200, { type: 'model', id, display_name: id, created_at: '2026-01-01T00:00:00Z' });
      }
      if (req.method !== 'POST' || !r.path.startsWith('/v1/messages')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: r.path } }));
        return;
      }
      const out = queued.shift() ?? responder(r);
      let payload = out.body;
      const msg = payload as {
        type?: string;
        usage?: unknown;
        content?: { type?: string; input?: unknown }[];
      };
      if ((out.status ?? 200) === 200 && msg && typeof msg === 'object' && msg.type === 'message') {
        // usage as the real API reports it, with prompt caching of the marked system block
        const b = r.body as { system?: { text?: string; cache_control?: unknown }[]; messages?: unknown[] };
        let cacheWrite = 0;
        let cacheRead = 0;
        for (const s of Array.isArray(b?.system) ? b.system : []) {
          if (!s.cache_control || typeof s.text !== 'string') continue;
          const t = Math.ceil(s.text.length / 4);
          if (cached.has(s.text)) cacheRead += t;
          else {
            cached.add(s.text);
            cacheWrite += t;
          }
        }
        const verdicts = (msg.content?.[0]?.input as { verdicts?: unknown[] } | undefined)?.verdicts;
        payload = {
          ...msg,
          usage: {
            input_tokens: Math.ceil(JSON.stringify(b?.messages ?? '').length / 4),
            output_tokens: out.outputTokens ?? 40 * Math.max(1, verdicts?.length ?? 1),
            cache_creation_input_tokens: cacheWrite,
            cache_read_input_tokens: cacheRead,
          },
        };
      }
      res.writeHead(out.status ?? 200, {
        'content-type': 'application/json',
        'request-id': `req_${requests.length}`,
        ...out.headers,
      });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(fn) {
      responder = fn;
    },
    queue(...replies) {
      queued.push(...replies);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

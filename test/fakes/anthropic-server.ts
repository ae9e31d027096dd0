/**
 * A local fake of the Anthropic Messages API (POST /v1/messages) on 127.0.0.1, port 0, so tests drive the real
 * @anthropic-ai/sdk code path. Each request body is recorded; the answer comes from a responder chosen per test.
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
}

export type Responder = (req: FakeRequest) => FakeReply;

export interface FakeAnthropic {
  readonly url: string;
  readonly requests: FakeRequest[];
  respond(fn: Responder): void;
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

/** A forced tool call carrying `input` (the structured verdict). */
export const toolAnswer = (input: unknown): FakeReply => ({
  body: envelope([{ type: 'tool_use', id: 'toolu_1', name: 'report_match_verdict', input }], 'tool_use'),
});
export const textAnswer = (text: string): FakeReply => ({
  body: envelope([{ type: 'text', text }], 'end_turn'),
});
export const refusal = (): FakeReply => ({ body: envelope([], 'refusal') });
export const apiError = (status: number): FakeReply => ({
  status,
  body: { type: 'error', error: { type: 'invalid_request_error', message: 'fake failure' } },
});

/**
 * `apiKey`: when given, GET /v1/models/{id} answers 401 to any other key (x-api-key or bearer) (the messages route never
 * checks, as before). `models`: the model ids GET /v1/models/{id} knows (default: any).
 */
export async function startFakeAnthropic(
  initial?: Responder,
  opts: { apiKey?: string; models?: readonly string[] } = {},
): Promise<FakeAnthropic> {
  let responder: Responder = initial ?? (() => textAnswer('no responder set'));
  const requests: FakeRequest[] = [];
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
      const out = responder(r);
      res.writeHead(out.status ?? 200, {
        'content-type': 'application/json',
        'request-id': `req_${requests.length}`,
      });
      res.end(typeof out.body === 'string' ? out.body : JSON.stringify(out.body));
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

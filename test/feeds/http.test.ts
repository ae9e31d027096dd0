import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpClient, HttpError, parseRetryAfter, type RetryInfo } from '../../src/feeds/http.ts';
import { createRateLimiter } from '../../src/feeds/rate-limit.ts';
import type { RawRequest } from '../../src/feeds/types.ts';
import { type HttpFake, startHttpFake } from '../fakes/http-fake.ts';

let fake: HttpFake;
beforeEach(async () => {
  fake = await startHttpFake();
  fake.route('GET', '/markets', (req) => ({ body: [{ id: '1', offset: req.query.offset ?? '0' }] }));
});
afterEach(async () => {
  await fake.close();
});

const fast = { baseMs: 1, maxMs: 5 };

describe('createHttpClient', () => {
  it('returns parsed JSON and the raw text, and reports each response to onResponse', async () => {
    const seen: Array<{ req: RawRequest; data: unknown }> = [];
    const http = createHttpClient({ baseUrl: fake.url, onResponse: (req, data) => seen.push({ req, data }) });
    const res = await http.get<Array<{ id: string; offset: string }>>('/markets', {
      limit: 2,
      offset: 4,
      skip: undefined,
    });
    expect(res.status).toBe(200);
    expect(res.data).toEqual([{ id: '1', offset: '4' }]);
    expect(res.text).toBe('[{"id":"1","offset":"4"}]');
    expect(seen).toEqual([
      {
        req: { method: 'GET', path: '/markets', query: { limit: '2', offset: '4' } },
        data: [{ id: '1', offset: '4' }],
      },
    ]);
    await http.close();
  });

  it('POSTs a JSON body', async () => {
    fake.route('POST', '/books', (req) => ({ body: { got: req.json() } }));
    const http = createHttpClient({ baseUrl: fake.url });
    const res = await http.post<{ got: unknown }>('/books', [{ token_id: '1' }]);
    expect(res.data.got).toEqual([{ token_id: '1' }]);
    expect(fake.requests.at(-1)?.headers['content-type']).toBe('application/json');
    await http.close();
  });

  it('retries after 429 (honouring Retry-After) and 500, then succeeds', async () => {
    fake.script('GET', '/markets', [
      { status: 429, headers: { 'retry-after': '0' }, body: { error: 'slow down' } },
      { status: 500, raw: 'oops' },
      { status: 503 },
    ]);
    const retries: RetryInfo[] = [];
    const http = createHttpClient({ baseUrl: fake.url, backoff: fast, onRetry: (i) => retries.push(i) });
    const res = await http.get('/markets');
    expect(res.data).toEqual([{ id: '1', offset: '0' }]);
    expect(res.attempts).toBe(4);
    expect(retries.map((r) => r.error.status)).toEqual([429, 500, 503]);
    expect(retries[0]!.delayMs).toBe(0); // Retry-After: 0 wins over the backoff
    expect(fake.count('GET', '/markets')).toBe(4);
    expect(http.stats().retries).toBe(3);
    await http.close();
  });

  it('gives up with a typed HttpError after the retries run out', async () => {
    fake.script('GET', '/markets', [{ status: 500, raw: 'boom' }, { status: 502 }, { status: 500 }]);
    const http = createHttpClient({ baseUrl: fake.url, retries: 2, backoff: fast });
    const err = await http.get('/markets').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(500);
    expect((err as HttpError).kind).toBe('status');
    expect((err as HttpError).attempts).toBe(3);
    await http.close();
  });

  it('does not retry a 404', async () => {
    const http = createHttpClient({ baseUrl: fake.url, backoff: fast });
    const err = (await http.get('/nope').catch((e: unknown) => e)) as HttpError;
    expect(err.status).toBe(404);
    expect(err.retryable).toBe(false);
    expect(err.body).toContain('no route');
    expect(fake.count('GET', '/nope')).toBe(1);
    await http.close();
  });

  it('times out a slow response, and a retry gets the fast answer', async () => {
    fake.script('GET', '/markets', [{ delayMs: 2_000, body: [] }]);
    const http = createHttpClient({ baseUrl: fake.url, timeoutMs: 100, retries: 0 });
    const err = (await http.get('/markets').catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.kind).toBe('timeout');
    expect(err.status).toBe(0);

    fake.script('GET', '/markets', [{ delayMs: 2_000, body: [] }]);
    const retrying = createHttpClient({ baseUrl: fake.url, timeoutMs: 100, retries: 2, backoff: fast });
    const res = await retrying.get('/markets');
    expect(res.data).toEqual([{ id: '1', offset: '0' }]);
    expect(res.attempts).toBe(2);
    await http.close();
    await retrying.close();
  });

  it('retries a dropped connection and a malformed body', async () => {
    fake.script('GET', '/markets', [{ drop: true }, { raw: '[{"id": "1", ' }]);
    const retries: RetryInfo[] = [];
    const http = createHttpClient({ baseUrl: fake.url, backoff: fast, onRetry: (i) => retries.push(i) });
    const res = await http.get('/markets');
    expect(res.data).toEqual([{ id: '1', offset: '0' }]);
    expect(retries.map((r) => r.error.kind)).toEqual(['network', 'parse']);
    await http.close();
  });

  it('takes rate-limit tokens per endpoint key', async () => {
    const taken: string[] = [];
    const limiter = createRateLimiter({ rules: { 'gamma /markets': { capacity: 10, intervalMs: 1_000 } } });
    const wrapped = {
      bucket: limiter.bucket,
      take: async (k: string, c?: number) => {
        taken.push(k);
        await limiter.take(k, c);
      },
    };
    const http = createHttpClient({ baseUrl: fake.url, limiter: wrapped, rateAlias: 'gamma' });
    await http.get('/markets');
    await http.get('/markets');
    expect(taken).toEqual(['gamma /markets', 'gamma /markets']);
    expect(limiter.bucket('gamma /markets')!.available()).toBeLessThan(9.5);
    await http.close();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3_000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});

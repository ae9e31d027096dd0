/**
 * The LLM stage: asks Claude, through the official @anthropic-ai/sdk, how pairs of markets relate.
 *
 * - Batches: several pairs per request, numbered; one structured verdict per pair comes back.
 * - Prompt caching: the instructions (system prompt, after the tool definition) carry `cache_control`, so every
 *   request after the first reads them from the cache at a tenth of the price.
 * - Structured output: a tool call (asked for, not forced: Claude Sonnet 5.5 refuses a forced tool choice) whose
 *   input schema is the verdict list; each verdict quotes the rule sentences of both markets that justify it, and a
 *   quote that is not in the market's text voids the verdict.
 * - Budget: a daily limit in micro-dollars (MATCHER_DAILY_BUDGET_USD), spent per UTC day of the injected clock and
 *   kept in the match store; a request whose worst-case cost does not fit is not sent.
 * - Tokens and cost of each request are recorded, and split over the verdicts of its batch.
 * - Retries: the SDK retries 429, 408/409 and 5xx answers with exponential backoff (honouring retry-after).
 *
 * Anything malformed, refused, failing or over budget is a `failure` for that pair: the matcher makes it
 * `undetermined`, never a link, and never crashes.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Market } from '../core/messages.ts';
import type { LlmSpend, MatchStore, VerdictUsage } from './store.ts';

export const LLM_RELATIONS = [
  'identical',
  'inverted',
  'implies',
  'exclusive',
  'different',
  'undetermined',
] as const;

export const LlmVerdictSchema = z.object({
  pair: z.number().int().min(1),
  same_event: z.boolean(),
  relation: z.enum(LLM_RELATIONS),
  confidence: z.number().min(0).max(1),
  quotes_a: z.array(z.string()).default([]),
  quotes_b: z.array(z.string()).default([]),
  resolution_differences: z.array(z.string()).default([]),
  reasoning: z.string().optional(),
});
export type LlmVerdict = z.infer<typeof LlmVerdictSchema>;

export interface LlmPair {
  readonly a: Market;
  readonly b: Market;
  /** what the rules stage could not read, for the model's attention */
  readonly notes: readonly string[];
}

export interface LlmPairResult {
  /** a well-formed verdict whose quotes were found in both markets' texts */
  readonly verdict?: LlmVerdict;
  /** why there is no usable verdict: refused, malformed, quotes not found, over budget, call failed */
  readonly failure?: string;
  /** the answer was paid for and is a final word on these versions (a verdict or a refusal): cache it */
  readonly cacheable: boolean;
  /** this pair's share of the request's tokens and cost */
  readonly usage?: VerdictUsage;
}

export interface LlmJudge {
  readonly model: string;
  /** Largest batch it sends in one request. */
  readonly batchSize: number;
  /** One result per pair, in order. Never throws. */
  judgeBatch(pairs: readonly LlmPair[]): Promise<LlmPairResult[]>;
}

/** Where spending is kept and how much may be spent per UTC day. */
export interface LlmBudget {
  /** micro-dollars per UTC day; 0 = never call */
  readonly dailyLimit: number;
  readonly now: () => number;
  spentOn(day: string): Promise<number>;
  record(day: string, spend: LlmSpend): Promise<void>;
}

export interface AnthropicJudgeOptions {
  readonly apiKey: string;
  readonly baseUrl?: string;
  readonly model: string;
  /** output_config.effort (undefined: the model's default, which on Sonnet 5.5 thinks at length) */
  readonly effort?: 'low' | 'medium' | 'high';
  readonly log: Logger;
  readonly budget?: LlmBudget;
  /** pairs per request (default 5) */
  readonly batchSize?: number;
  /** output tokens allowed per pair (default 600) */
  readonly maxTokensPerPair?: number;
  readonly timeoutMs?: number;
  /** SDK retries on 429/5xx with exponential backoff (default 3) */
  readonly maxRetries?: number;
}

export const TOOL = 'report_match_verdicts';

/** The instructions: long and stable, so they are worth caching (cache_control on the last system block). */
export const INSTRUCTIONS = `You compare prediction markets, usually one on Polymarket and one on Kalshi, for an automated arbitrage
system that trades real money on your verdict. For each numbered pair, decide how the YES outcome of market A
relates to the YES outcome of market B, judging ONLY from the texts given (question, subtitle, event, outcomes and
the full resolution rules). Never rely on outside knowledge of how the event turned out.

Relations (from A's YES to B's YES):
- "identical": A resolves YES exactly when B resolves YES, in every possible world, including edge cases.
- "inverted": A resolves YES exactly when B resolves NO (for example "above X" against "X or below", or a match
  listed with the two players in opposite order).
- "implies": whenever A resolves YES, B resolves YES too (for example "above 110" implies "above 100", a parlay
  implies each of its legs, a seat count band implies "at least" a lower count).
- "exclusive": A and B cannot both resolve YES (two different candidates for one office, disjoint ranges).
- "different": the markets settle on different events or different measurements, or on the same event in a way
  that none of the above holds. Use it only when you can name the difference.
- "undetermined": the texts do not settle the question (a rule is missing, ambiguous or cut off).

Read the resolution rules closely. Check, and list under resolution_differences every difference in:
- the settlement source (exchange, index, data provider, official agency) and the exact series (pair, currency,
  real vs nominal, seasonally adjusted or not, advance vs final estimate);
- the window and fixing: a point in time, a candle's open or close (which candle: the one that starts or ends at
  the time), an average over N seconds, a TWAP; the settlement time and its time zone (ET includes daylight
  saving; EDT is UTC-4, EST is UTC-5);
- the threshold and whether a tie counts ("above" is strict, "or above" / "at least" includes the value, a bound
  written one tick below a round number such as 114.99 may equal "below 115");
- the period (which quarter, month or year; "before Jan 1, 2027" and "before 2027" are the same boundary);
- the jurisdiction, office, district, chamber, country, party or person;
- how the event may happen (losing a primary is not retiring; announcing is not filing);
- cancellations, postponements, ties and early closes, when they resolve the two markets differently;
- which outcome is YES: in a two-sided market (a match, Up/Down) the first listed outcome is YES unless stated.

Quote your evidence. For every verdict other than "undetermined", quote in quotes_a the sentences (or title
fragments) of market A, and in quotes_b those of market B, that establish it, copied exactly, character for
character, from the texts given, without ellipses or paraphrase. A verdict whose quotes are not found verbatim in
the texts is discarded. Prefer short, complete sentences from the rules; a title may be quoted when the rules
refer to it.

Confidence is your probability that the relation is right in every case the rules allow. Use 0.95 or more only
when the rules of both markets are complete and agree on every point listed above; lower it for every assumption
you make. When in doubt between "identical" and anything else, do not say "identical".

Report one verdict per pair, with its pair number, through the tool ${TOOL}. Do not answer in prose.`;

const INPUT_SCHEMA = {
  type: 'object' as const,
  properties: {
    verdicts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          pair: { type: 'integer', minimum: 1, description: 'the pair number' },
          same_event: { type: 'boolean', description: 'both markets settle on the same event' },
          relation: { type: 'string', enum: [...LLM_RELATIONS] },
          confidence: { type: 'number', minimum: 0, maximum: 1 },
          quotes_a: {
            type: 'array',
            items: { type: 'string' },
            description: 'verbatim sentences of market A that justify the verdict',
          },
          quotes_b: {
            type: 'array',
            items: { type: 'string' },
            description: 'verbatim sentences of market B that justify the verdict',
          },
          resolution_differences: { type: 'array', items: { type: 'string' } },
          reasoning: { type: 'string' },
        },
        required: [
          'pair',
          'same_event',
          'relation',
          'confidence',
          'quotes_a',
          'quotes_b',
          'resolution_differences',
        ],
      },
    },
  },
  required: ['verdicts'],
};

const RULES_CHARS = 4_000;

/** Everything the model sees of one market; quotes are checked against this same text. */
export function marketSheet(m: Market): string {
  const end = m.endTime === null ? 'none' : new Date(m.endTime).toISOString();
  const outcomes = m.outcomes
    .map((o) => `${o.label}${o.side === 'other' ? '' : ` (${o.side.toUpperCase()})`}`)
    .join(', ');
  return [
    `Question: ${m.question}`,
    ...(m.subtitle ? [`Subtitle (what YES stands for): ${m.subtitle}`] : []),
    ...(m.eventTitle ? [`Event: ${m.eventTitle}`] : []),
    `Outcomes: ${outcomes}`,
    `Scheduled close: ${end}`,
    `Rules: ${m.rules.slice(0, RULES_CHARS)}`,
  ].join('\n');
}

export function buildPrompt(pairs: readonly LlmPair[]): string {
  const parts: string[] = [];
  pairs.forEach((p, i) => {
    parts.push(
      `=== Pair ${i + 1} ===`,
      `Market A (venue ${p.a.venue}, id ${p.a.marketId}${p.a.eventId ? `, event ${p.a.eventId}` : ''})`,
      marketSheet(p.a),
      '',
      `Market B (venue ${p.b.venue}, id ${p.b.marketId}${p.b.eventId ? `, event ${p.b.eventId}` : ''})`,
      marketSheet(p.b),
      ...(p.notes.length > 0 ? ['', `Notes from an automatic rules check: ${p.notes.join('; ')}`] : []),
      '',
    );
  });
  parts.push(`Report ${pairs.length} verdict${pairs.length === 1 ? '' : 's'} (pairs 1 to ${pairs.length}).`);
  return parts.join('\n');
}

const squash = (s: string): string =>
  s.normalize('NFKC').replace(/[“”„]/g, '"').replace(/[‘’]/g, "'").replace(/\s+/g, ' ').trim().toLowerCase();

/** A quote, stripped of the quotation marks and final punctuation a model may add, is found in the text. */
export function quoteFound(quote: string, text: string): boolean {
  const q = squash(quote)
    .replace(/^["'\s]+|["'\s]+$/g, '')
    .replace(/[.…]+$/, '');
  return q.length >= 8 && squash(text).includes(q);
}

/** Pulls the verdict list from a Messages API answer: the tool call's input, else JSON in a text block. */
export function verdictsFromContent(content: readonly unknown[]): unknown[] | undefined {
  for (const block of content) {
    const b = block as { type?: string; name?: string; input?: unknown };
    if (b.type === 'tool_use' && b.name === TOOL) {
      const v = (b.input as { verdicts?: unknown } | undefined)?.verdicts;
      if (Array.isArray(v)) return v;
    }
  }
  for (const block of content) {
    const b = block as { type?: string; text?: string };
    if (b.type !== 'text' || typeof b.text !== 'string') continue;
    const start = b.text.indexOf('{');
    const end = b.text.lastIndexOf('}');
    if (start < 0 || end <= start) continue;
    try {
      const v = (JSON.parse(b.text.slice(start, end + 1)) as { verdicts?: unknown }).verdicts;
      if (Array.isArray(v)) return v;
    } catch {
      // not JSON: no verdicts
    }
  }
  return undefined;
}

/** Checks one pair's verdict: well formed, and quoting both markets verbatim where it links them. */
export function checkVerdict(raw: unknown, p: LlmPair): { verdict?: LlmVerdict; failure?: string } {
  const r = LlmVerdictSchema.safeParse(raw);
  if (!r.success) return { failure: `malformed LLM verdict (${r.error.issues[0]?.message ?? 'invalid'})` };
  const v = r.data;
  if (v.relation === 'undetermined') return { verdict: v };
  const sheets = [marketSheet(p.a), marketSheet(p.b)];
  for (const [side, quotes, sheet] of [
    ['A', v.quotes_a, sheets[0]!],
    ['B', v.quotes_b, sheets[1]!],
  ] as const) {
    if (quotes.length === 0) return { failure: `LLM verdict quotes nothing from market ${side}` };
    const missing = quotes.find((q) => !quoteFound(q, sheet));
    if (missing !== undefined)
      return { failure: `LLM quote not found in market ${side}'s text: "${missing.slice(0, 80)}"` };
  }
  return { verdict: v };
}

// ---------------------------------------------------------------- prices and cost

interface Price {
  /** micro-dollars per million tokens */
  readonly input: number;
  readonly output: number;
}

/** List prices per million tokens (USD); prefixes of model ids. Unknown models are charged the highest. */
const PRICES: readonly [string, Price][] = [
  ['claude-opus-4-5', { input: 5_000_000, output: 25_000_000 }],
  ['claude-opus-4-6', { input: 5_000_000, output: 25_000_000 }],
  ['claude-opus-4', { input: 15_000_000, output: 75_000_000 }],
  ['claude-3-opus', { input: 15_000_000, output: 75_000_000 }],
  ['claude-sonnet-5', { input: 2_000_000, output: 10_000_000 }],
  ['claude-sonnet', { input: 3_000_000, output: 15_000_000 }],
  ['claude-3-7-sonnet', { input: 3_000_000, output: 15_000_000 }],
  ['claude-3-5-sonnet', { input: 3_000_000, output: 15_000_000 }],
  ['claude-haiku-4', { input: 1_000_000, output: 5_000_000 }],
  ['claude-3-5-haiku', { input: 800_000, output: 4_000_000 }],
  ['claude-3-haiku', { input: 250_000, output: 1_250_000 }],
];
const HIGHEST: Price = { input: 15_000_000, output: 75_000_000 };

export function priceOf(model: string): Price {
  return PRICES.find(([prefix]) => model.startsWith(prefix))?.[1] ?? HIGHEST;
}

export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
}

/** Cost in micro-dollars, rounded up: cache writes at 1.25× and cache reads at 0.1× the input price. */
export function costOf(model: string, u: TokenUsage): number {
  const p = priceOf(model);
  const scaled =
    u.inputTokens * p.input +
    u.cacheWriteTokens * ((p.input * 5) / 4) +
    u.cacheReadTokens * (p.input / 10) +
    u.outputTokens * p.output;
  return Math.ceil(scaled / 1_000_000);
}

/** UTC day of an instant: the budget's period. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

const usd = (micro: number): string => `$${(micro / 1e6).toFixed(2)}`;

/** Splits a request's usage over the n verdicts of its batch (integers; the remainder goes to the first). */
export function shareOf(model: string, u: TokenUsage, cost: number, n: number, i: number): VerdictUsage {
  const part = (x: number) => Math.floor(x / n) + (i === 0 ? x % n : 0);
  return {
    model,
    inputTokens: part(u.inputTokens),
    outputTokens: part(u.outputTokens),
    cacheReadTokens: part(u.cacheReadTokens),
    cacheWriteTokens: part(u.cacheWriteTokens),
    costMicro: part(cost),
    batchSize: n,
  };
}

// ---------------------------------------------------------------- the judge

export function createAnthropicJudge(o: AnthropicJudgeOptions): LlmJudge {
  // the SDK is loaded on the first request (≈ 170 ms of CPU): a process that never asks does not pay for it
  let client: Promise<Anthropic> | undefined;
  const sdk = (): Promise<Anthropic> =>
    (client ??= import('@anthropic-ai/sdk').then(
      ({ default: Sdk }) =>
        new Sdk({
          apiKey: o.apiKey,
          baseURL: o.baseUrl ?? 'https://api.anthropic.com',
          timeout: o.timeoutMs ?? 60_000,
          maxRetries: o.maxRetries ?? 3,
        }),
    ));
  const batchSize = Math.max(1, o.batchSize ?? 5);
  const perPair = o.maxTokensPerPair ?? 600;
  const price = priceOf(o.model);
  if (!PRICES.some(([prefix]) => o.model.startsWith(prefix)))
    o.log.warn({ model: o.model }, 'matcher: unknown model price; budgeting at the highest known price');

  const fail = (pairs: readonly LlmPair[], failure: string, usage?: (i: number) => VerdictUsage) =>
    pairs.map((_, i) => ({ failure, cacheable: false, ...(usage ? { usage: usage(i) } : {}) }));

  async function one(pairs: readonly LlmPair[]): Promise<LlmPairResult[]> {
    const prompt = buildPrompt(pairs);
    const maxTokens = 200 + perPair * pairs.length;
    const b = o.budget;
    let day = '';
    if (b) {
      day = utcDay(b.now());
      const spent = await b.spentOn(day);
      // worst case: nothing read from the cache (about 3 characters a token), every output token used
      const chars = prompt.length + INSTRUCTIONS.length + JSON.stringify(INPUT_SCHEMA).length;
      const worst = Math.ceil(
        (Math.ceil(chars / 3) * ((price.input * 5) / 4) + maxTokens * price.output) / 1_000_000,
      );
      if (b.dailyLimit <= 0 || spent + worst > b.dailyLimit) {
        const why =
          b.dailyLimit <= 0
            ? 'LLM budget is 0 (MATCHER_DAILY_BUDGET_USD=0)'
            : `LLM daily budget exhausted: ${usd(spent)} of ${usd(b.dailyLimit)} spent on ${day} UTC, this request could cost up to ${usd(worst)} (MATCHER_DAILY_BUDGET_USD)`;
        return fail(pairs, why);
      }
    }
    const ids = pairs.map((p) => `${p.a.venue}:${p.a.marketId}|${p.b.venue}:${p.b.marketId}`);
    let res: Anthropic.Message;
    try {
      res = await (await sdk()).messages.create({
        model: o.model,
        max_tokens: maxTokens,
        system: [{ type: 'text', text: INSTRUCTIONS, cache_control: { type: 'ephemeral' } }],
        tools: [
          {
            name: TOOL,
            description: 'Report one verdict per numbered pair of markets.',
            input_schema: INPUT_SCHEMA,
          },
        ],
        // auto, not forced: Claude Sonnet 5.5 (the default) rejects a forced tool choice with HTTP 400; the one tool
        // and the instructions ask for the verdicts, and a verdict list given as text is read as well
        tool_choice: { type: 'auto' },
        ...(o.effort ? { output_config: { effort: o.effort } } : {}),
        messages: [{ role: 'user', content: prompt }],
      });
    } catch (err) {
      const status = (err as { status?: number }).status;
      const msg = err instanceof Error ? err.message : String(err);
      o.log.warn({ pairs: ids, status, err: msg }, 'matcher: LLM call failed after retries; no link');
      return fail(pairs, `LLM call failed${status ? ` (HTTP ${status})` : ''}: ${msg.slice(0, 160)}`);
    }
    const u = res.usage as Partial<Anthropic.Usage> | undefined;
    const tokens: TokenUsage = {
      inputTokens: u?.input_tokens ?? 0,
      outputTokens: u?.output_tokens ?? 0,
      cacheReadTokens: u?.cache_read_input_tokens ?? 0,
      cacheWriteTokens: u?.cache_creation_input_tokens ?? 0,
    };
    const cost = costOf(o.model, tokens);
    if (b) await b.record(day, { ...tokens, costMicro: cost, requests: 1 });
    const usage = (i: number) => shareOf(o.model, tokens, cost, pairs.length, i);
    if (res.stop_reason === 'refusal') {
      o.log.warn({ pairs: ids }, 'matcher: the LLM refused to judge; no link');
      return pairs.map((_, i) => ({
        failure: 'LLM refused to judge the pair',
        cacheable: true,
        usage: usage(i),
      }));
    }
    const list = verdictsFromContent(res.content as unknown[]);
    if (!list) {
      o.log.warn({ pairs: ids, stop: res.stop_reason }, 'matcher: malformed LLM answer; no link');
      const why =
        res.stop_reason === 'max_tokens'
          ? 'LLM answer cut off (max_tokens)'
          : 'malformed LLM answer (no verdict list)';
      return fail(pairs, why, usage);
    }
    return pairs.map((p, i) => {
      const raw = list.find((x) => (x as { pair?: unknown } | null)?.pair === i + 1);
      if (raw === undefined)
        return { failure: `LLM answer has no verdict for pair ${i + 1}`, cacheable: false, usage: usage(i) };
      const c = checkVerdict(raw, p);
      if (c.failure) o.log.warn({ pair: ids[i], why: c.failure }, 'matcher: unusable LLM verdict; no link');
      return c.verdict
        ? { verdict: c.verdict, cacheable: true, usage: usage(i) }
        : { failure: c.failure!, cacheable: false, usage: usage(i) };
    });
  }

  return {
    model: o.model,
    batchSize,
    async judgeBatch(pairs) {
      const out: LlmPairResult[] = [];
      for (let i = 0; i < pairs.length; i += batchSize)
        out.push(...(await one(pairs.slice(i, i + batchSize))));
      return out;
    },
  };
}

/** A budget kept in the match store (durable, shared by every process using that store). */
export function storeBudget(
  store: Pick<MatchStore, 'llmSpend' | 'addLlmSpend'>,
  dailyLimit: number,
  now: () => number,
): LlmBudget {
  return {
    dailyLimit,
    now,
    spentOn: async (day) => (await store.llmSpend(day)).costMicro,
    record: (day, spend) => store.addLlmSpend(day, spend),
  };
}

/** The judge the configuration asks for (ANTHROPIC_*, MATCHER_DAILY_BUDGET_USD), or undefined without a key. */
export function judgeFromConfig(
  config: Pick<Config, 'anthropic' | 'matcherDailyBudget'>,
  store: MatchStore,
  now: () => number,
  log: Logger,
): LlmJudge | undefined {
  if (!config.anthropic.apiKey) return undefined;
  return createAnthropicJudge({
    apiKey: config.anthropic.apiKey,
    ...(config.anthropic.baseUrl ? { baseUrl: config.anthropic.baseUrl } : {}),
    model: config.anthropic.model,
    ...(config.anthropic.effort ? { effort: config.anthropic.effort } : {}),
    log,
    budget: storeBudget(store, config.matcherDailyBudget, now),
  });
}

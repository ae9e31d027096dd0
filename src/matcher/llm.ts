/**
 * The LLM stage: asks Claude, through the official @anthropic-ai/sdk, whether two markets are the same event and
 * how their outcomes relate, as a structured answer (a forced tool call whose input is the verdict JSON; a plain
 * JSON text answer is accepted too). Anything malformed, refused or failing is `undefined` plus a log line:
 * no link, never a crash.
 */
import Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import type { Logger } from '../core/log.ts';
import type { Market } from '../core/messages.ts';

export const LlmVerdictSchema = z.object({
  same_event: z.boolean(),
  relation: z.enum(['identical', 'inverted', 'implies', 'exclusive', 'different']),
  resolution_differences: z.array(z.string()).default([]),
  confidence: z.number().min(0).max(1),
  reasoning: z.string().optional(),
});
export type LlmVerdict = z.infer<typeof LlmVerdictSchema>;

export interface LlmJudge {
  readonly model: string;
  /** Resolves undefined when no usable verdict came back (logged). */
  judge(a: Market, b: Market, ruleNotes: readonly string[]): Promise<LlmVerdict | undefined>;
}

export interface AnthropicJudgeOptions {
  readonly apiKey: string;
  readonly baseUrl?: string;
  readonly model: string;
  readonly log: Logger;
  readonly maxTokens?: number;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
}

const TOOL = 'report_match_verdict';

const SYSTEM =
  'You compare two prediction markets, possibly on different venues, for an arbitrage system. Decide whether they ' +
  'resolve on the same event and how the YES outcome of market A relates to the YES outcome of market B: ' +
  '"identical" (A YES exactly when B YES), "inverted" (A YES exactly when B NO), "implies" (A YES guarantees B YES), ' +
  '"exclusive" (A YES and B YES cannot both happen), or "different". Read the resolution rules closely: settlement ' +
  'source and averaging window, time and time zone, thresholds and whether ties count, units (nominal vs real), ' +
  'and which side is YES. Any difference in how they resolve means "different" unless a relation still holds ' +
  'with certainty. List every resolution-rule difference. Answer only through the tool.';

const INPUT_SCHEMA = {
  type: 'object' as const,
  properties: {
    same_event: { type: 'boolean' },
    relation: { type: 'string', enum: ['identical', 'inverted', 'implies', 'exclusive', 'different'] },
    resolution_differences: { type: 'array', items: { type: 'string' } },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    reasoning: { type: 'string' },
  },
  required: ['same_event', 'relation', 'resolution_differences', 'confidence'],
};

function describe(label: string, m: Market): string {
  const end = m.endTime === null ? 'none' : new Date(m.endTime).toISOString();
  const outcomes = m.outcomes
    .map((o) => `${o.label}${o.side === 'other' ? '' : ` (${o.side.toUpperCase()})`}`)
    .join(', ');
  return [
    `Market ${label} — venue ${m.venue}, id ${m.marketId}${m.eventId ? `, event ${m.eventId}` : ''}`,
    `Question: ${m.question}`,
    `Outcomes: ${outcomes}`,
    `Scheduled close: ${end}`,
    `Rules: ${m.rules.slice(0, 4000)}`,
  ].join('\n');
}

export function buildPrompt(a: Market, b: Market, ruleNotes: readonly string[]): string {
  return [
    describe('A', a),
    '',
    describe('B', b),
    '',
    ruleNotes.length > 0 ? `Notes from an automatic rules check: ${ruleNotes.join('; ')}` : '',
    'Report your verdict with the tool.',
  ].join('\n');
}

/** Pulls a verdict from a Messages API response body: the tool call's input, else JSON in a text block. */
export function verdictFromContent(content: readonly unknown[]): LlmVerdict | undefined {
  for (const block of content) {
    const b = block as { type?: string; name?: string; input?: unknown; text?: string };
    if (b.type === 'tool_use' && b.name === TOOL) {
      const r = LlmVerdictSchema.safeParse(b.input);
      if (r.success) return r.data;
    }
  }
  for (const block of content) {
    const b = block as { type?: string; text?: string };
    if (b.type !== 'text' || typeof b.text !== 'string') continue;
    const text = b.text.replace(/^\s*```(?:json)?/i, '').replace(/```\s*$/, '');
    const start = text.indexOf('{');
    const end = text.lastIndexOf('}');
    if (start < 0 || end <= start) continue;
    try {
      const r = LlmVerdictSchema.safeParse(JSON.parse(text.slice(start, end + 1)));
      if (r.success) return r.data;
    } catch {
      // not JSON: fall through
    }
  }
  return undefined;
}

export function createAnthropicJudge(o: AnthropicJudgeOptions): LlmJudge {
  const client = new Anthropic({
    apiKey: o.apiKey,
    baseURL: o.baseUrl ?? 'https://api.anthropic.com',
    timeout: o.timeoutMs ?? 60_000,
    maxRetries: o.maxRetries ?? 2,
  });
  return {
    model: o.model,
    async judge(a, b, ruleNotes) {
      const pair = { a: `${a.venue}:${a.marketId}`, b: `${b.venue}:${b.marketId}` };
      try {
        const res = await client.messages.create({
          model: o.model,
          max_tokens: o.maxTokens ?? 1024,
          system: SYSTEM,
          tools: [
            {
              name: TOOL,
              description: 'Report the match verdict for markets A and B.',
              input_schema: INPUT_SCHEMA,
            },
          ],
          tool_choice: { type: 'tool', name: TOOL },
          messages: [{ role: 'user', content: buildPrompt(a, b, ruleNotes) }],
        });
        if (res.stop_reason === 'refusal') {
          o.log.warn({ ...pair }, 'matcher: the LLM refused to judge the pair; no link');
          return undefined;
        }
        const v = verdictFromContent(res.content as unknown[]);
        if (!v) o.log.warn({ ...pair, stop: res.stop_reason }, 'matcher: malformed LLM verdict; no link');
        return v;
      } catch (err) {
        o.log.warn(
          { ...pair, err: err instanceof Error ? err.message : String(err) },
          'matcher: LLM call failed; no link',
        );
        return undefined;
      }
    },
  };
}

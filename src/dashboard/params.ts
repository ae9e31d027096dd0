/**
 * Query-string and body validation for the HTTP API: every bad input is a 400 naming the parameter, what was
 * given and what is accepted. Unknown parameters are refused too (a typo must not silently show everything).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { OpportunityTypeSchema, RiskVerdictSchema, VenueSchema } from '../core/messages.ts';
import { OPPORTUNITY_OUTCOMES } from '../store/report-queries.ts';

export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `at least ${min}` })
        .max(max, { message: `at most ${max}` }),
    );

const name = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w.:@-]+$/, { message: 'letters, digits and _ . : @ -' });

export const P = {
  limit: intIn(1, 200).optional(),
  offset: intIn(0, 1_000_000).optional(),
  cursor: z.string().min(3).max(600).optional(),
  since: intIn(0, 8_640_000_000_000).optional(),
  until: intIn(0, 8_640_000_000_000).optional(),
  points: intIn(2, 5_000).optional(),
  buckets: intIn(1, 500).optional(),
  strategy: name.optional(),
  rule: z
    .string()
    .regex(/^[a-z_]{1,64}$/, { message: 'a rule name such as kill_switch or allocation_cap' })
    .optional(),
  venue: VenueSchema.optional(),
  kind: OpportunityTypeSchema.optional(),
  verdict: RiskVerdictSchema.optional(),
  outcome: z.enum(OPPORTUNITY_OUTCOMES).optional(),
  fillKind: z.enum(['trade', 'unwind', 'settlement']).optional(),
  status: z.enum(['open', 'closed']).optional(),
  search: z.string().max(200).optional(),
  level: z.enum(['info', 'warning', 'critical']).optional(),
  ref: z
    .string()
    .max(300)
    .regex(/^(polymarket|kalshi):.+$/, { message: 'venue:marketId, e.g. kalshi:KXBTCD-26DEC3112-T100000' }),
};

function describe(issue: z.core.$ZodIssue, given: unknown): string {
  const key = issue.path.join('.') || '(body)';
  const shown = given === undefined ? '' : `=${JSON.stringify(given)}`;
  if (issue.code === 'unrecognized_keys') {
    return `unknown parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  }
  const what = issue.message.replace(/^Invalid (input|option): /, '').replace(/^expected /, '');
  return `${key}${shown}: expected ${what}`;
}

function fail(error: z.ZodError, input: Record<string, unknown>, accepted: string[]): never {
  const lines = error.issues.map((i) => describe(i, input[String(i.path[0])]));
  const hint = error.issues.some((i) => i.code === 'unrecognized_keys')
    ? ` (accepted: ${accepted.join(', ') || 'none'})`
    : '';
  throw new BadRequestError(`${lines.join('; ')}${hint}`);
}

/** Parses the query string against `shape` (every value a string; unknown keys refused). */
export function query<S extends z.ZodRawShape>(c: Context, shape: S): z.infer<z.ZodObject<S>> {
  const input = c.req.query();
  const r = z.object(shape).strict().safeParse(input);
  if (!r.success) fail(r.error, input, Object.keys(shape));
  return r.data as z.infer<z.ZodObject<S>>;
}

/** Parses a JSON body against `schema`. */
export async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let input: unknown;
  try {
    input = await c.req.json();
  } catch {
    throw new BadRequestError('the request body is not valid JSON');
  }
  const r = schema.safeParse(input);
  if (!r.success) {
    const accepted = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    fail(r.error, (input ?? {}) as Record<string, unknown>, accepted);
  }
  return r.data;
}

/** "kalshi:KX-1" → { venue, marketId } (ids may contain colons). */
export function parseRef(text: string): { venue: 'polymarket' | 'kalshi'; marketId: string } {
  const i = text.indexOf(':');
  const venue = VenueSchema.parse(text.slice(0, i));
  return { venue, marketId: text.slice(i + 1) };
}

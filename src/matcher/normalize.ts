/**
 * Text normalization shared by the candidate index and the settlement facts: the same entity, number or date
 * written differently on two venues becomes the same token.
 *
 * - letters: accents folded (Grüne → grune), case folded, apostrophes dropped, markdown emphasis removed;
 * - names: hyphenated words also give their parts (Ben-Gvir → ben, gvir), so "Ben Gvir" meets "Ben-Gvir";
 *   codes such as GA-06 stay one token (ga-6);
 * - aliases: Federal Reserve / FOMC → fed, United States / U.S. / USA → us, GOP → republican, "third quarter"
 *   → q3 …;
 * - numbers: "$100k" = "100,000" = "100000", "1.7 million" = 1700000 (the raw 1.7 is kept too), "3.0%" = "3%",
 *   "25 bps" = "25bps", "'28" = 2028, a bound written one tick below a round number (114.99, 63,599.99) also
 *   gives the round number, ranges "110-115" give both ends;
 * - dates: "August 19", "Aug 19, 2026", "2026-08-19" (slugs) and Kalshi's "26AUG19" (tickers) give the same
 *   month-day token (d08-19) and, where written, the year; "the 120th Congress" gives the year it is elected;
 * - words: light suffix stripping so that democratic/democrats → democrat, presidential → president,
 *   nominee/nomination → nomin.
 */

const ALIASES: readonly [RegExp, string][] = [
  [/\bfederal reserve(?: board)?\b|\bfomc\b/g, ' fed '],
  [/\beuropean central bank\b/g, ' ecb '],
  [/\bbank of england\b/g, ' boe '],
  [/\bbank of japan\b/g, ' boj '],
  [/\bbank of canada\b/g, ' boc '],
  [/\bswiss national bank\b/g, ' snb '],
  [/\breserve bank of australia\b/g, ' rba '],
  [/\breserve bank of new zealand\b/g, ' rbnz '],
  [/\breserve bank of india\b/g, ' rbi '],
  [/\bpeoples? bank of china\b/g, ' pboc '],
  [/\bunited states(?: of america)?\b|\bu\.s\.a\.?(?![a-z])|\bu\.s\.?(?![a-z])|\busa\b/g, ' us '],
  [/\bunited kingdom\b|\bu\.k\.?(?![a-z])|\bgreat britain\b|\bbritain\b|\bbritish\b/g, ' uk '],
  [/\bgop\b/g, ' republican '],
  [/\bdems\b/g, ' democrat '],
  [/\b(first|1st) quarter\b/g, ' q1 '],
  [/\b(second|2nd) quarter\b/g, ' q2 '],
  [/\b(third|3rd) quarter\b/g, ' q3 '],
  [/\b(fourth|4th) quarter\b/g, ' q4 '],
  [/\bbasis points?\b/g, ' bps '],
  [/\bper ?cent\b/g, '% '],
];

const ANY_ALIAS = new RegExp(ALIASES.map(([re]) => `(?:${re.source})`).join('|'));

const STOP = new Set(
  (
    'a an the of on in at by to for and or be is are will was were this that with from as it its de la what who ' +
    'which how market yes no than any does do did has have had been being before after above below between over ' +
    'under more less higher lower least most than if then into per their there these those such other another'
  ).split(' '),
);

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_RE =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';

/** Lower case, accents and apostrophes removed, markdown emphasis dropped. */
export function fold(text: string): string {
  // accents: only texts with non-ASCII letters pay for the Unicode decomposition
  const plain = /[^\t\n\r -~]/.test(text) ? text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '') : text;
  const lower = plain.toLowerCase();
  // each pass below needs one of these characters: most titles have none, and skip all four
  if (!/[’'`*_]/.test(lower)) return lower;
  return lower
    .replace(/[’'`](\d\d)\b/g, " '$1") // keep "'28" recognizable
    .replace(/(\w)[’'`]s\b/g, '$1') // possessives
    .replace(/[’`]/g, '')
    .replace(/[*_]{2,}/g, ' ');
}

const MONTH_WORDS = new Map<string, string>(
  [
    'january',
    'february',
    'march',
    'april',
    'may',
    'june',
    'july',
    'august',
    'september',
    'october',
    'november',
    'december',
  ].flatMap((full, i) => {
    const short = MONTHS[i]!;
    const forms = [full, short, ...(short === 'sep' ? ['sept'] : [])];
    return forms.map((f): [string, string] => [f, short]);
  }),
);

const MONTH_DAY = new RegExp(
  `\\b${MONTH_RE}\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b(?!\\s*(?:%|k\\b|m\\b|million|billion))`,
  'g',
);

const TOKEN =
  /(?<![a-z0-9.])\$?(\d[\d,]*(?:\.\d+)?)(?:\s?(%|bps?|k|mm?|bn?|t|thousand|million|billion|trillion)(?![a-z]))?|([a-z][a-z0-9]*(?:-[a-z0-9]+)*)/g;

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Canonical text of a number: no grouping commas, no trailing zeros ("3.0" → "3", "100,000" → "100000"). */
export function canonicalNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  return String(Math.round(n * 1e6) / 1e6);
}

function monthOf(name: string): number | undefined {
  const i = MONTHS.indexOf(name.slice(0, 3));
  return i < 0 ? undefined : i + 1;
}

/** Folded text with the aliases applied (Federal Reserve → fed, U.S. → us …), for the facts' patterns. */
export function aliased(text: string): string {
  let t = fold(text);
  // most titles name none of the aliases: one test instead of a pass per alias
  if (ANY_ALIAS.test(t)) for (const [re, rep] of ALIASES) t = t.replace(re, rep);
  return t.replace(/\s+/g, ' ');
}

/** Light suffix stripping: enough to meet inflections across venues, not a linguistic stemmer. */
export function stem(w: string): string {
  if (w.length <= 3) return w;
  let st = STEMS.get(w);
  if (st === undefined) {
    if (STEMS.size > 200_000) STEMS.clear();
    st = stemOf(w);
    STEMS.set(w, st);
  }
  return st;
}

/** Stems already computed: a listing's vocabulary is small next to its word count. */
const STEMS = new Map<string, string>();

function stemOf(w: string): string {
  if (/\d/.test(w)) return w;
  const rules: readonly [string, string][] = [
    ['ential', 'ent'],
    ['ations', ''],
    ['ation', ''],
    ['ities', ''],
    ['ity', ''],
    ['ians', ''],
    ['ian', ''],
    ['ics', ''],
    ['ies', 'y'],
    ['ees', ''],
    ['ee', ''],
    ['ings', ''],
    ['ing', ''],
    ['ions', ''],
    ['ion', ''],
    ['ans', ''],
    ['an', ''],
    ['ic', ''],
    ['ed', ''],
    ['es', ''],
    ['s', ''],
  ];
  for (const [suf, rep] of rules) {
    if (!w.endsWith(suf)) continue;
    if (suf === 's' && /(ss|us|is)$/.test(w)) return w;
    if (suf === 'es' && !/(ss|x|z|ch|sh)es$/.test(w)) continue;
    const base = w.slice(0, w.length - suf.length) + rep;
    if (base.length < 3) return w;
    // winning → winn → win
    return /([b-df-hj-np-tv-z])\1$/.test(base) && !/(ll|ss)$/.test(base) ? base.slice(0, -1) : base;
  }
  return w;
}

const MULT: Record<string, number> = {
  k: 1e3,
  thousand: 1e3,
  m: 1e6,
  mm: 1e6,
  million: 1e6,
  b: 1e9,
  bn: 1e9,
  billion: 1e9,
  t: 1e12,
  trillion: 1e12,
};

/** Tokens of one number as written: the value, its scaled value, and the round number a x.99 bound stands for. */
function numberTokens(raw: string, unit: string | undefined, out: Set<string>): void {
  const plain = raw.replace(/,/g, '');
  const n = Number(plain);
  if (!Number.isFinite(n)) return;
  const u = (unit ?? '').trim();
  const suffix = u === '%' ? '%' : u.startsWith('bp') ? 'bps' : '';
  const mult = MULT[u] ?? 1;
  // one tick below a round number (114.99, 63,599.99) stands for the round number as a bound
  const justBelow = /\.9{2,}$/.test(plain) ? Math.ceil(n) : undefined;
  for (const v of justBelow === undefined ? [n] : [n, justBelow]) {
    out.add(canonicalNumber(v) + suffix);
    if (mult !== 1) out.add(canonicalNumber(v * mult) + suffix);
  }
  // nearby counts meet too (a band 233-237 and a threshold of 230): the value to two significant digits, as a
  // separate, weaker token; years are left alone
  const v = n * mult;
  if (v >= 20 && !(mult === 1 && Number.isInteger(v) && v >= 1900 && v <= 2100)) {
    const p = 10 ** (Math.floor(Math.log10(v)) - 1);
    out.add(`~${canonicalNumber(Math.round(v / p) * p)}${suffix}`);
  }
}

const WORD_ALIASES: Record<string, string> = {
  increase: 'hike',
  raise: 'hike',
  decrease: 'cut',
  reduce: 'cut',
};

/** Month-day and year tokens of the dates in ids: ISO dates in slugs, Kalshi's 26FEB25 in tickers. */
export function idDateTokens(ids: string): string[] {
  const out: string[] = [];
  for (const m of ids.matchAll(/(?<![0-9])(20\d\d)-(\d\d)-(\d\d)(?![0-9])/g))
    out.push(m[1]!, `d${m[2]}-${m[3]}`);
  for (const m of ids.matchAll(
    /(?<![0-9A-Za-z])(\d\d)(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(\d\d)/gi,
  )) {
    out.push(`20${m[1]}`, `d${pad2(monthOf(m[2]!.toLowerCase())!)}-${m[3]}`);
  }
  return out;
}

/** Dates, Congress numbers, '28 years and district codes: their tokens go to `out`, the rest comes back. */
function digitForms(text: string, out: Set<string>): string {
  let t = text;
  // dates: ISO (slugs) and Kalshi ticker codes 26AUG19
  t = t.replace(/\b(20\d\d)-(\d\d)-(\d\d)\b/g, (_m, y: string, mo: string, d: string) => {
    out.add(y);
    out.add(`d${mo}-${d}`);
    return ' ';
  });
  t = t.replace(
    /\b(\d\d)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(\d\d)(?=\d{2,4}\b|[a-z]|\b)/g,
    (_m, y: string, mon: string, d: string) => {
      out.add(`20${y}`);
      out.add(`d${pad2(monthOf(mon)!)}-${d}`);
      out.add(mon);
      return ' ';
    },
  );
  // "August 19", "Aug 19, 2026", "Jan. 1st"
  t = t.replace(MONTH_DAY, (m, mon: string, d: string) => {
    const mo = monthOf(mon);
    if (mo === undefined || Number(d) < 1 || Number(d) > 31) return m;
    out.add(MONTHS[mo - 1]!);
    out.add(`d${pad2(mo)}-${pad2(Number(d))}`);
    return ' ';
  });
  // "120th Congress" is elected two years before it sits: 1786 + 2N
  t = t.replace(/\b(\d{2,3})(?:st|nd|rd|th) congress\b/g, (_m, n: string) => {
    out.add(`${n}th`);
    out.add('congress');
    out.add(String(1786 + 2 * Number(n)));
    return ' ';
  });
  // '28 → 2028
  t = t.replace(/(^|\s)'(\d\d)\b/g, (_m, pre: string, y: string) => {
    out.add(`20${y}`);
    return pre;
  });
  // district and ticker-like codes: GA-06 → ga-6
  t = t.replace(/\b([a-z]{2})-(\d{1,2})\b/g, (_m, st: string, n: string) => {
    out.add(`${st}-${Number(n)}`);
    return ' ';
  });
  return t;
}

/**
 * Normalized tokens of a text (a question, subtitle, event title, slug or ticker), deduplicated.
 * Ordered by first appearance, so short strings can be compared in tests.
 */
export function normalizeTokens(text: string): string[] {
  return [...normalizeInto(text, new Set<string>())];
}

/** normalizeTokens, added to `out` (callers that add more tokens build one set, not two). */
export function normalizeInto(text: string, out: Set<string>): Set<string> {
  let t = aliased(text);

  // dates, counts and codes all have digits: most of a title's passes are skipped without one
  if (/\d/.test(t)) t = digitForms(t, out);
  // numbers (with their units) and words; "110-115" gives both numbers, "q3", "120th" stay words
  for (const m of t.matchAll(TOKEN)) {
    if (m[1] !== undefined) {
      numberTokens(m[1], m[2], out);
      continue;
    }
    const w = m[3]!;
    for (const p of w.includes('-') ? w.split('-') : [w]) {
      if (p.length < 2 || STOP.has(p)) continue;
      const mo = MONTH_WORDS.get(p);
      const st = mo ?? stem(p);
      out.add(WORD_ALIASES[st] ?? st);
    }
  }
  return out;
}

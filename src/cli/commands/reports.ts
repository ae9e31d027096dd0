/**
 * What the system did, and why: `pm-arb trades`, `pm-arb positions`, `pm-arb decisions`, `pm-arb pnl`. Each reads
 * the read API (src/cli/report-source.ts): the running pm-arb's endpoint while one runs on this DATA_DIR, else
 * the store. Text tables for people (money as $1,234.56, fees to the hundredth of a cent), `--json` for programs
 * (the read API's fields: amounts as exact decimal strings in fields ending in `Usd`, times in epoch ms).
 * Where the figures come from is printed on stderr, so stdout stays the report.
 */
import type { Command } from 'commander';
import { loadConfig, loadDotEnv } from '../../core/config.ts';
import { formatUsd, formatUsdChange, parseMicro, toDecimal } from '../../core/money.ts';
import { UsageError } from '../main.ts';
import { openReportSource, type ReportSource } from '../report-source.ts';
import { formatTable } from '../table.ts';
import { parseIntOpt } from './simulate.ts';

const VENUES = ['polymarket', 'kalshi'];
const VERDICTS = ['approve', 'reduce', 'reject'];
const FILL_KINDS = ['trade', 'unwind', 'settlement'];

/**
 * --since: a duration back from now (90s, 30m, 2h, 7d), an ISO date or time (2026-05-01, 2026-05-01T12:00Z), or
 * epoch milliseconds. Returns epoch ms.
 */
export function parseSince(text: string, now: number): number {
  const t = text.trim();
  const d = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(t);
  if (d) {
    const mult = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 's' | 'm' | 'h' | 'd'];
    return Math.max(0, Math.round(now - Number(d[1]) * mult));
  }
  if (/^\d{12,}$/.test(t)) return Number(t);
  if (/^\d{4}-\d\d-\d\d/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(
    `--since "${text}": expected a duration back from now (30m, 2h, 7d), an ISO date or time ` +
      '(2026-05-01, 2026-05-01T12:00:00Z) or epoch milliseconds',
  );
}

const choice = (name: string, v: string | undefined, allowed: readonly string[]): string | undefined => {
  if (v === undefined) return undefined;
  if (!allowed.includes(v)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}; got "${v}"`);
  return v;
};

const when = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const usd = (s: string | null | undefined, decimals = 2): string =>
  s === null || s === undefined ? '-' : formatUsd(parseMicro(s), decimals);
const change = (s: string | null | undefined): string =>
  s === null || s === undefined ? '-' : formatUsdChange(parseMicro(s));
const qty = (s: string): string => {
  const [w, f = ''] = s.split('.');
  return `${Number(w).toLocaleString('en-US')}${f ? `.${f}` : ''}`;
};

interface Common {
  json?: boolean;
  since?: string;
  limit: string;
}

/** Opens the source, says on stderr where the figures come from, runs `fn`, closes. */
async function withSource<T>(fn: (src: ReportSource) => Promise<T>): Promise<T> {
  loadDotEnv();
  const config = loadConfig();
  // said before the store opens, so the first line comes at once
  const src = await openReportSource(config, (via) => process.stderr.write(`(from ${via})\n`));
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}

/** Pages through a cursor-paginated list until `limit` rows (the API gives at most 200 at a time). */
async function collect<R>(
  src: ReportSource,
  path: string,
  params: Record<string, string | number | undefined>,
  limit: number,
): Promise<{ total: number; totalCapped?: boolean; rows: R[] }> {
  const rows: R[] = [];
  let cursor: string | undefined;
  let total = 0;
  let totalCapped: boolean | undefined;
  do {
    const page = await src.get<{ total: number; totalCapped?: boolean; next: string | null; rows: R[] }>(
      path,
      {
        ...params,
        limit: Math.min(200, limit - rows.length),
        cursor,
      },
    );
    if (cursor === undefined) {
      total = page.total;
      totalCapped = page.totalCapped;
    }
    rows.push(...page.rows);
    cursor = page.next ?? undefined;
  } while (cursor && rows.length < limit);
  return { total, ...(totalCapped !== undefined ? { totalCapped } : {}), rows };
}

const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

function footer(
  shown: number,
  total: number,
  capped: boolean | undefined,
  what: string,
  hint: string,
): string {
  if (shown === 0) return `no ${what}${hint ? ` ${hint}` : ''}`;
  const of = total > shown ? ` of ${total.toLocaleString('en-US')}${capped ? '+' : ''}` : '';
  return `${shown.toLocaleString('en-US')}${of} ${what}, newest first`;
}

interface FillRow {
  id: string;
  ts: number;
  strategy: string;
  venue: string;
  marketId: string;
  question: string | null;
  tokenId: string;
  outcome: string | null;
  side: string;
  price: string;
  shares: string;
  notionalUsd: string;
  feeUsd: string;
  kind: string;
}

interface DecisionRow {
  id: string;
  requestId: string;
  strategy: string;
  verdict: string;
  rule: string;
  reason: string;
  decidedAt: number;
}

interface PositionRow {
  venue: string;
  marketId: string;
  tokenId: string;
  question: string | null;
  outcome: string | null;
  strategy: string | null;
  shares: string;
  avgPrice: string | null;
  mark: string;
  costBasisUsd: string;
  valueUsd: string;
  unrealizedPnlUsd: string;
  realizedPnlUsd: string;
}

export function registerReportCommands(program: Command): void {
  const common = (c: Command, what: string): Command =>
    c
      .option('--since <when>', 'only since then: 30m, 2h, 7d back from now, an ISO date/time, or epoch ms')
      .option('--limit <n>', `how many ${what} at most`, '20')
      .option(
        '--json',
        'print JSON (amounts as exact decimal strings in fields ending in Usd, times in epoch ms)',
      );

  common(
    program
      .command('trades')
      .alias('fills')
      .description('fills: what was traded, by which strategy, at what price and fee (newest first)')
      .option('--strategy <name>', 'one strategy')
      .option('--venue <venue>', VENUES.join(' or '))
      .option('--kind <kind>', FILL_KINDS.join(', ')),
    'fills',
  ).action(async (o: Common & { strategy?: string; venue?: string; kind?: string }) => {
    const limit = parseIntOpt('--limit', o.limit, 1);
    const params = {
      strategy: o.strategy,
      venue: choice('--venue', o.venue, VENUES),
      kind: choice('--kind', o.kind, FILL_KINDS),
      since: o.since === undefined ? undefined : parseSince(o.since, Date.now()),
    };
    await withSource(async (src) => {
      const page = await collect<FillRow>(src, '/api/fills', params, limit);
      if (o.json) return out(JSON.stringify(page));
      const rows = page.rows.map((f) => [
        when(f.ts),
        f.strategy,
        f.venue,
        f.kind === 'trade' ? f.side : `${f.side} (${f.kind})`,
        qty(f.shares),
        f.price,
        usd(f.notionalUsd),
        usd(f.feeUsd, 4),
        `${f.venue}:${f.marketId}${f.outcome ? ` ${f.outcome}` : ''}${f.question ? `  ${f.question}` : ''}`,
      ]);
      if (rows.length > 0) {
        out(
          formatTable(
            [
              { head: 'TIME (UTC)' },
              { head: 'STRATEGY' },
              { head: 'VENUE' },
              { head: 'SIDE' },
              { head: 'SHARES', right: true },
              { head: 'PRICE', right: true },
              { head: 'NOTIONAL', right: true },
              { head: 'FEE', right: true },
              { head: 'MARKET' },
            ],
            rows,
          ),
        );
      }
      out(footer(rows.length, page.total, page.totalCapped, 'fills', 'yet'));
    });
  });

  common(
    program
      .command('decisions')
      .description("the risk guardian's decisions with the rule and reason of each, and counts per rule")
      .option(
        '--rule <rule>',
        'one rule, e.g. allocation_cap, stale_book, kill_switch (ok = a clean approval)',
      )
      .option('--verdict <v>', VERDICTS.join(', '))
      .option('--strategy <name>', 'one strategy'),
    'decisions',
  ).action(async (o: Common & { rule?: string; verdict?: string; strategy?: string }) => {
    const limit = parseIntOpt('--limit', o.limit, 1);
    if (o.rule !== undefined && !/^[a-z_]{1,64}$/.test(o.rule)) {
      throw new UsageError(`--rule "${o.rule}": a rule name such as allocation_cap or stale_book`);
    }
    const since = o.since === undefined ? undefined : parseSince(o.since, Date.now());
    const params = {
      rule: o.rule,
      verdict: choice('--verdict', o.verdict, VERDICTS),
      strategy: o.strategy,
      since,
    };
    await withSource(async (src) => {
      const byRule = await src.get<{ rows: { rule: string; verdict: string; count: number }[] }>(
        '/api/decisions/by-rule',
        { since },
      );
      const page = await collect<DecisionRow>(src, '/api/decisions', params, limit);
      if (o.json) return out(JSON.stringify({ byRule: byRule.rows, ...page }));
      const all = byRule.rows.reduce((s, r) => s + r.count, 0);
      out(
        all === 0
          ? `no decisions${since !== undefined ? ` since ${when(since)} UTC` : ' yet'}`
          : `BY RULE${since !== undefined ? ` since ${when(since)} UTC` : ''} (${all.toLocaleString('en-US')} decisions): ` +
              byRule.rows.map((r) => `${r.rule} ${r.verdict} ${r.count.toLocaleString('en-US')}`).join(' · '),
      );
      if (page.rows.length > 0) {
        out('');
        out(
          formatTable(
            [
              { head: 'TIME (UTC)' },
              { head: 'STRATEGY' },
              { head: 'VERDICT' },
              { head: 'RULE' },
              { head: 'REASON' },
            ],
            page.rows.map((d) => [when(d.decidedAt), d.strategy, d.verdict, d.rule, d.reason]),
          ),
        );
        out(footer(page.rows.length, page.total, page.totalCapped, 'decisions', ''));
      } else if (all > 0) out('no decisions match these filters');
    });
  });

  program
    .command('positions')
    .description('positions per market and strategy: shares, average price, mark, value, P&L')
    .option('--closed', 'closed positions instead of open ones')
    .option('--strategy <name>', 'one strategy')
    .option('--venue <venue>', VENUES.join(' or '))
    .option('--limit <n>', 'how many positions at most', '50')
    .option('--json', 'print JSON (amounts as exact decimal strings in fields ending in Usd)')
    .action(
      async (o: { closed?: boolean; strategy?: string; venue?: string; limit: string; json?: boolean }) => {
        const limit = parseIntOpt('--limit', o.limit, 1);
        const status = o.closed ? 'closed' : 'open';
        await withSource(async (src) => {
          const rows: PositionRow[] = [];
          let total = 0;
          for (let offset = 0; rows.length < limit; ) {
            const page = await src.get<{ total: number; rows: PositionRow[] }>('/api/positions', {
              status,
              strategy: o.strategy,
              venue: choice('--venue', o.venue, VENUES),
              limit: Math.min(200, limit - rows.length),
              offset,
            });
            total = page.total;
            rows.push(...page.rows);
            offset += page.rows.length;
            if (page.rows.length === 0 || offset >= total) break;
          }
          if (o.json) return out(JSON.stringify({ status, total, rows }));
          if (rows.length === 0) return out(`no ${status} positions`);
          out(
            formatTable(
              [
                { head: 'STRATEGY' },
                { head: 'SHARES', right: true },
                { head: 'AVG', right: true },
                { head: 'MARK', right: true },
                { head: 'COST', right: true },
                { head: 'VALUE', right: true },
                { head: 'UNREALIZED', right: true },
                { head: 'REALIZED', right: true },
                { head: 'MARKET' },
              ],
              rows.map((p) => [
                p.strategy ?? '-',
                qty(p.shares),
                p.avgPrice ?? '-',
                p.mark,
                usd(p.costBasisUsd),
                usd(p.valueUsd),
                change(p.unrealizedPnlUsd),
                change(p.realizedPnlUsd),
                `${p.venue}:${p.tokenId}${p.outcome ? ` ${p.outcome}` : ''}${p.question ? `  ${p.question}` : ''}`,
              ]),
            ),
          );
          out(`${rows.length}${total > rows.length ? ` of ${total}` : ''} ${status} positions`);
        });
      },
    );

  program
    .command('pnl')
    .description('profit and loss: equity, realized and unrealized, fees, today, drawdown, and per strategy')
    .option(
      '--since <when>',
      'also the equity change since then: 30m, 2h, 7d back, an ISO date/time, or epoch ms',
    )
    .option('--json', 'print JSON (amounts as exact decimal strings in fields ending in Usd)')
    .action(async (o: { since?: string; json?: boolean }) => {
      const since = o.since === undefined ? undefined : parseSince(o.since, Date.now());
      await withSource(async (src) => {
        const p = await src.get<Portfolio>('/api/portfolio');
        const s = await src.get<{ rows: StrategyRow[] }>('/api/strategies');
        let window: { since: number; fromUsd: string; toUsd: string; changeUsd: string } | null = null;
        if (since !== undefined) {
          const curve = await src.get<{ points: { ts: number; equityUsd: string }[] }>(
            '/api/portfolio/equity',
            {
              since,
              until: Date.now(),
            },
          );
          const first = curve.points[0];
          const last = curve.points.at(-1);
          if (first && last) {
            const d = parseMicro(last.equityUsd) - parseMicro(first.equityUsd);
            window = { since, fromUsd: first.equityUsd, toUsd: last.equityUsd, changeUsd: toDecimal(d) };
          }
        }
        if (o.json) return out(JSON.stringify({ portfolio: p, strategies: s.rows, window }));
        const lines = [
          `equity      ${usd(p.equityUsd)}  (${change(p.sinceStart.pnlUsd)} since the start at ${usd(p.initialBankrollUsd)}, ${(p.sinceStart.returnBps / 100).toFixed(2)}%)`,
          `realized    ${change(p.realizedPnlUsd)}`,
          `unrealized  ${change(p.unrealizedPnlUsd)}`,
          `cash        ${usd(p.cashUsd)}   in positions ${usd(p.positionsValueUsd)}`,
          `today       ${change(p.today.pnlUsd)}  (daily loss limit ${usd(p.today.limitUsd)}, ${(p.today.usedBps / 100).toFixed(2)}% used)`,
          `drawdown    ${usd(p.drawdown.drawdownUsd)} from the high-water mark ${usd(p.drawdown.highWaterMarkUsd)} ` +
            `(stop at ${usd(p.drawdown.stopLevelUsd)}, ${(p.drawdown.usedBps / 100).toFixed(2)}% of the limit used)`,
        ];
        if (since !== undefined) {
          lines.push(
            window
              ? `since ${when(window.since)} UTC  ${change(window.changeUsd)}  (${usd(window.fromUsd)} → ${usd(window.toUsd)})`
              : `since ${when(since)} UTC  no equity recorded in that window`,
          );
        }
        out(lines.join('\n'));
        out('');
        out(
          formatTable(
            [
              { head: 'STRATEGY' },
              { head: 'P&L', right: true },
              { head: 'TRADES', right: true },
              { head: 'WON', right: true },
              { head: 'LOST', right: true },
              { head: 'MAX DD', right: true },
              { head: 'ALLOCATION', right: true },
              { head: 'ENABLED' },
            ],
            s.rows.map((r) => [
              r.strategy,
              change(r.pnlUsd),
              String(r.trades),
              String(r.wins),
              String(r.losses),
              usd(r.maxDrawdownUsd),
              usd(r.allocationUsd),
              r.enabled === null ? '-' : r.enabled ? 'yes' : 'no',
            ]),
          ),
        );
        const fees = p.days.reduce((sum, d) => sum + parseMicro(d.feesUsd), 0);
        out(`fees paid (last ${p.days.length} days with fills): ${formatUsd(fees, 4)}`);
      });
    });
}

interface Portfolio {
  initialBankrollUsd: string;
  equityUsd: string;
  cashUsd: string;
  positionsValueUsd: string;
  realizedPnlUsd: string;
  unrealizedPnlUsd: string;
  sinceStart: { pnlUsd: string; returnBps: number };
  today: { pnlUsd: string; limitUsd: string; usedBps: number };
  drawdown: { highWaterMarkUsd: string; drawdownUsd: string; stopLevelUsd: string; usedBps: number };
  days: { day: string; feesUsd: string }[];
}

interface StrategyRow {
  strategy: string;
  enabled: boolean | null;
  allocationUsd: string | null;
  pnlUsd: string;
  maxDrawdownUsd: string;
  trades: number;
  wins: number;
  losses: number;
}

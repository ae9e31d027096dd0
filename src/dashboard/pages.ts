/**
 * The pages: server-rendered shells (navigation, sections, empty tables) that the page scripts in ./public fill
 * from the read API and keep current from /api/live. Assets come from the repository and node_modules (uPlot),
 * never from a CDN. /login turns DASHBOARD_TOKEN into a session cookie for browsers.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import type { Context, Hono } from 'hono';
import type { DashboardContext, RouteGroup } from './context.ts';
import { canRead, SESSION_COOKIE, sameOrigin, sameSecret, sessionValue } from './security.ts';

export interface PageDef {
  readonly path: string;
  readonly id: string;
  readonly title: string;
  readonly body: string;
}

const table = (id: string, heads: readonly string[]): string =>
  `<div class="table-wrap"><table id="${id}"><thead><tr>${heads.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody></tbody></table></div>`;

const pager = (id: string): string => `<div class="pager" id="${id}"></div>`;

const filters = (id: string, selects: readonly [name: string, label: string][]): string =>
  `<form class="filters" id="${id}">${selects
    .map(([n, l]) => `<label>${l} <select name="${n}"><option value="">all</option></select></label>`)
    .join('')}</form>`;

export const PAGES: readonly PageDef[] = [
  {
    path: '/',
    id: 'portfolio',
    title: 'Portfolio',
    body: `
<section class="cards" id="portfolio-cards"></section>
<section><h2>Equity <small>with high-water mark and the drawdown stop</small></h2><div class="chart" id="equity-chart"></div></section>
<section><h2>Drawdown <small>% below the high-water mark, against the limit</small></h2><div class="chart small" id="drawdown-chart"></div></section>
<section class="two">
  <div><h2>Exposure per venue <small>as of the last allocation round (every minute)</small></h2>${table('venues', ['Venue', 'Positions', 'Cost', 'Value at mark', 'Unrealized', 'Platform limit'])}</div>
  <div><h2>Per day</h2>${table('days', ['Day (UTC)', 'Equity at close', 'P&amp;L', 'Fills', 'Fees'])}</div>
</section>`,
  },
  {
    path: '/positions',
    id: 'positions',
    title: 'Positions',
    body: `
${filters('positions-filters', [
  ['strategy', 'Strategy'],
  ['venue', 'Venue'],
])}
<p class="hint">Positions, their marks and unrealized P&amp;L are published at each allocation round (every minute; the first within a minute of the start), the equity in the header every second.</p>
<section><h2>Open <small id="open-count"></small></h2>${table('open-positions', ['Venue', 'Market', 'Outcome', 'Shares', 'Avg price', 'Mark', 'Value', 'Unrealized', 'Resolves in', 'Strategy'])}${pager('open-pager')}</section>
<section><h2>Closed <small id="closed-count"></small></h2>${table('closed-positions', ['Venue', 'Market', 'Outcome', 'Realized', 'Strategy', 'Closed'])}${pager('closed-pager')}</section>`,
  },
  {
    path: '/opportunities',
    id: 'opportunities',
    title: 'Opportunities & trades',
    body: `
${filters('opp-filters', [
  ['kind', 'Kind'],
  ['strategy', 'Strategy'],
  ['venue', 'Venue'],
  ['outcome', 'Outcome'],
])}
<section><h2>Opportunities <small id="opp-count"></small></h2>${table('opportunities', ['Detected', 'Kind', 'Markets', 'Edge after fees', 'bps', 'Size', 'Outcome'])}${pager('opp-pager')}</section>
<section><h2>Fills <small id="fill-count"></small></h2>${table('fills', ['Time', 'Strategy', 'Venue', 'Market', 'Side', 'Price', 'Shares', 'Notional', 'Fee', 'Kind'])}${pager('fill-pager')}</section>`,
  },
  {
    path: '/strategies',
    id: 'strategies',
    title: 'Strategies',
    body: `
<section><h2>Tournament leaderboard</h2>${table('leaderboard', ['#', 'Strategy', 'Score', 'Allocation', 'P&amp;L', 'Sharpe', 'Max drawdown', 'Win rate', 'Trades', 'State', ''])}</section>
<section><h2>Allocation over time</h2><div class="chart" id="allocation-chart"></div></section>`,
  },
  {
    path: '/risk',
    id: 'risk',
    title: 'Risk',
    body: `
<section class="halt-panel" id="halt-panel"><div id="halt-state"></div><div class="actions">
  <button class="danger control" id="halt-button" disabled>Halt trading (kill switch)</button>
  <button class="control" id="resume-button" disabled>Resume trading</button></div></section>
<section><h2>Limits <small>usage against each limit</small></h2>${table('limits', ['Limit', 'Used', 'Limit', 'Usage', ''])}</section>
<section><h2>Decisions by rule over time</h2><div class="chart" id="rules-chart"></div>${table('by-rule', ['Rule', 'Verdict', 'Count'])}</section>
<section><h2>Control actions <small>who, when, why</small></h2>${table('actions', ['When', 'Action', 'Target', 'Who', 'From', 'Why', 'Result'])}${pager('actions-pager')}</section>
<section><h2>Recent decisions</h2>${filters('decision-filters', [
      ['rule', 'Rule'],
      ['verdict', 'Verdict'],
    ])}${table('decisions', ['Time', 'Strategy', 'Verdict', 'Rule', 'Reason'])}${pager('decision-pager')}</section>`,
  },
  {
    path: '/matches',
    id: 'matches',
    title: 'Matches',
    body: `
<section><h2>Review queue <small id="review-count"></small></h2><p class="hint">Pairs the rules could not settle, and LLM verdicts below the confidence a link needs. Approving links them now; the matcher keeps the override.</p>
${table('review', ['Market A', 'Market B', 'Judged', 'Confidence', 'Stage', 'Reasons', ''])}</section>
<section><h2>Linked pairs <small id="links-count"></small></h2>${filters('link-filters', [
      ['relation', 'Relation'],
      ['stage', 'Stage'],
    ])}${table('links', ['Market A', 'Market B', 'Relation', 'Confidence', 'Stage', 'Reasons', 'Decided'])}${pager('links-pager')}</section>
<section id="pair" hidden><h2>Rules side by side</h2><div class="side-by-side"><div id="pair-a"></div><div id="pair-b"></div></div></section>`,
  },
  {
    path: '/agents',
    id: 'agents',
    title: 'Agents & feeds',
    body: `
<section><h2>Feeds</h2>${table('feeds', ['Feed', 'Connection', 'Last message', 'Stale books', 'Reconnects', 'Messages/s', 'Frames', 'Rejected'])}</section>
<section><h2>Agents</h2>${table('agents', ['Agent', 'Instance', 'State', 'Heartbeat', 'Processed', 'Failed', 'Host/PID'])}</section>
<section><h2>Dead letters <small id="dlq-total"></small></h2>${table('dead-letters', ['Channel', 'Count', 'Last error', 'Last at'])}</section>`,
  },
  {
    path: '/alerts',
    id: 'alerts',
    title: 'Alerts',
    body: `
<section><h2>Alert settings <small>which events alert, and their thresholds</small></h2>${table('alert-settings', ['Event', 'What', 'Setting (JSON)', 'Stored', ''])}</section>
<section><h2>Alert log</h2>${table('alert-log', ['Time', 'Level', 'Title', 'Message'])}${pager('alert-pager')}</section>`,
  },
];

function shell(p: PageDef, ctx: DashboardContext): string {
  const nav = PAGES.map(
    (x) => `<a href="${x.path}"${x.id === p.id ? ' aria-current="page"' : ''}>${x.title}</a>`,
  ).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} · pm-arb</title>
<link rel="stylesheet" href="/assets/vendor/uplot.css"><link rel="stylesheet" href="/assets/style.css">
<script src="/assets/vendor/uplot.js" defer></script><script type="module" src="/assets/app.js"></script>
</head><body data-page="${p.id}" data-role="${ctx.info.role}">
<header><div class="brand">pm-arb</div><nav>${nav}</nav>
<div class="status"><span id="halt-badge" class="badge">…</span><span id="equity-badge" class="badge"></span>
<span id="live-badge" class="badge">connecting</span><button id="unlock" class="control-toggle">Unlock controls</button></div></header>
<main id="page"><h1>${p.title}</h1>${p.body}</main>
<dialog id="confirm"><form method="dialog"><h3 id="confirm-title"></h3><p id="confirm-text"></p>
<label>Your name <input name="actor" id="confirm-actor" maxlength="80" autocomplete="name"></label>
<label>Why (recorded) <input name="reason" id="confirm-reason" maxlength="500" required></label>
<p class="error" id="confirm-error"></p>
<div class="actions"><button value="cancel" formnovalidate>Cancel</button><button value="ok" id="confirm-ok" class="danger">Confirm</button></div></form></dialog>
<dialog id="token-dialog"><form method="dialog"><h3>Unlock controls</h3>
<p>Paste the control token (CONTROL_TOKEN, or the file <code id="token-at">DATA_DIR/control-token</code>). It stays in this tab only.</p>
<label>Control token <input type="password" id="token-input" autocomplete="off" required></label>
<p class="error" id="token-error"></p>
<div class="actions"><button value="cancel" formnovalidate>Cancel</button><button value="ok" id="token-ok">Unlock</button></div></form></dialog>
<footer><span id="footer-info"></span></footer>
</body></html>`;
}

const LOGIN = (error: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · pm-arb</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="login"><main><h1>pm-arb dashboard</h1><form method="post" action="/login">
<label>Dashboard token (DASHBOARD_TOKEN) <input type="password" name="token" autocomplete="current-password" required autofocus></label>
${error ? `<p class="error">${error}</p>` : ''}<button>Sign in</button></form></main></body></html>`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Every asset, read once at start: the page scripts and styles of ./public and uPlot from node_modules. */
function loadAssets(): Map<string, { type: string; body: string }> {
  const dir = join(import.meta.dirname, 'public');
  const req = createRequire(import.meta.url);
  const uplotDir = join(req.resolve('uplot'), '..');
  const files: [string, string][] = [
    ['/assets/app.js', join(dir, 'app.js')],
    ['/assets/format.js', join(dir, 'format.js')],
    ['/assets/style.css', join(dir, 'style.css')],
    ...PAGES.map((p): [string, string] => [`/assets/pages/${p.id}.js`, join(dir, 'pages', `${p.id}.js`)]),
    ['/assets/vendor/uplot.js', join(uplotDir, 'uPlot.iife.min.js')],
    ['/assets/vendor/uplot.css', join(uplotDir, 'uPlot.min.css')],
  ];
  return new Map(
    files.map(([url, path]) => [
      url,
      { type: TYPES[extname(path)] ?? 'application/octet-stream', body: readFileSync(path, 'utf8') },
    ]),
  );
}

export const pagesGroup: RouteGroup = {
  name: 'pages',
  publicPaths: ['/assets/', '/login', '/favicon.ico'],
  mount(app: Hono, ctx: DashboardContext) {
    const assets = loadAssets();
    app.get('/assets/*', (c) => {
      const a = assets.get(c.req.path);
      if (!a) return c.text(`no such asset: ${c.req.path}`, 404);
      c.header('Content-Type', a.type);
      c.header('Cache-Control', 'no-cache');
      return c.body(a.body);
    });
    app.get('/favicon.ico', (c) => c.body(null, 204));
    for (const p of PAGES) {
      app.get(p.path, (c) => {
        c.header('Cache-Control', 'no-store');
        return c.html(shell(p, ctx));
      });
    }

    const login = (c: Context, error = '', status: 200 | 401 | 403 = 200) => {
      c.header('Cache-Control', 'no-store');
      return c.html(LOGIN(error), status);
    };
    app.get('/login', (c) => {
      const t = ctx.access.readToken;
      if (t === undefined || canRead(c, ctx.access)) return c.redirect('/', 303);
      return login(c);
    });
    app.post('/login', async (c) => {
      const t = ctx.access.readToken;
      if (t === undefined) return c.redirect('/', 303);
      const origin = sameOrigin(c);
      if (!origin.ok) return login(c, origin.why, 403);
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const given = typeof form.token === 'string' ? form.token.trim() : '';
      if (!sameSecret(given, t)) return login(c, 'That is not the dashboard token.', 401);
      const secure =
        new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
      c.header(
        'Set-Cookie',
        `${SESSION_COOKIE}=${sessionValue(t)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${secure ? '; Secure' : ''}`,
      );
      return c.redirect('/', 303);
    });
    app.post('/logout', (c) => {
      const origin = sameOrigin(c);
      if (!origin.ok) return c.text(origin.why, 403);
      c.header('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return c.redirect('/login', 303);
    });
  },
};

/**
 * The dashboard's client: header (halt state, equity, live status), the live stream, the control token and the
 * confirmation dialog, table/pager/filter/chart helpers, then the page's own module (./pages/<page>.js).
 * Text from the system (market questions, reasons) is always set as text, never as HTML.
 */
import * as fmt from './format.js';

const page = document.body.dataset.page;
const TOKEN_KEY = 'pmarb.control';
const ACTOR_KEY = 'pmarb.actor';

// ------------------------------------------------------------------ DOM

/** h('td', { class: 'num' }, 'text', node) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const $ = (id) => document.getElementById(id);

/** Replaces a table's body: `cells(row)` returns the cells (text or nodes; a cell may be { v, class }). */
export function fillTable(id, rows, cells, empty = 'nothing yet') {
  const table = $(id);
  const body = table.tBodies[0];
  const width = table.tHead?.rows[0]?.cells.length ?? 1;
  const out = rows.map((r) =>
    h(
      'tr',
      {},
      cells(r).map((c) =>
        c !== null && typeof c === 'object' && !(c instanceof Node)
          ? h('td', { class: c.class, title: c.title }, c.v)
          : h('td', {}, c),
      ),
    ),
  );
  if (out.length === 0) out.push(h('tr', { class: 'empty' }, h('td', { colspan: width }, empty)));
  body.replaceChildren(...out);
}

/** A money cell: right-aligned, red when negative. */
export const money = (text, opts) => ({
  v: fmt.usd(text, opts),
  class: `num${typeof text === 'string' && text.startsWith('-') ? ' neg' : ''}`,
});
export const num = (v) => ({ v, class: 'num' });

/** A usage bar for `bps` of a limit. */
export function bar(bps) {
  const p = Math.max(0, Math.min(100, (bps ?? 0) / 100));
  return h(
    'div',
    { class: `bar${bps >= 8000 ? ' hot' : bps >= 5000 ? ' warm' : ''}`, title: fmt.pct(bps) },
    h('span', { style: `width:${p}%` }),
  );
}

// ------------------------------------------------------------------ API

export class ApiError extends Error {}

export async function api(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const res = await fetch(q.size > 0 ? `${path}?${q}` : path, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

// ------------------------------------------------------------------ live updates

const listeners = [];
let lastUpdate = null;

/** Calls `fn(update)` for every live update that touches one of `topics` (or every update without topics). */
export function on(topics, fn) {
  listeners.push({ topics: topics ? new Set(topics) : null, fn });
}

/**
 * Wraps an async loader so that calls while it runs fold into one more run afterwards, and runs at most once per
 * `minGapMs`: a page re-reads what it shows at most about once a second however fast the market moves.
 */
export function refresher(load, minGapMs = 800) {
  let running = false;
  let again = false;
  let last = 0;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    const wait = last + minGapMs - Date.now();
    if (wait > 0) {
      running = true;
      await new Promise((r) => setTimeout(r, wait));
      running = false;
    }
    running = true;
    last = Date.now();
    try {
      await load();
      setError('');
    } catch (err) {
      setError(err.message);
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      void run();
    }
  };
  return run;
}

function setError(text) {
  let el = $('page-error');
  if (!el) {
    el = h('p', { id: 'page-error', class: 'error', role: 'alert' });
    $('page').prepend(el);
  }
  el.textContent = text;
  el.hidden = text === '';
}

function connectLive() {
  const badge = $('live-badge');
  const es = new EventSource('/api/live');
  es.addEventListener('hello', (e) => {
    const hello = JSON.parse(e.data);
    badge.textContent = hello.live ? 'live' : 'not live (no bus)';
    badge.className = `badge ${hello.live ? 'ok' : 'warn'}`;
  });
  es.addEventListener('update', (e) => {
    const u = JSON.parse(e.data);
    lastUpdate = u;
    for (const l of listeners) {
      if (!l.topics || u.topics.some((t) => l.topics.has(t))) l.fn(u);
    }
  });
  es.onerror = () => {
    badge.textContent = 'reconnecting';
    badge.className = 'badge warn';
  };
}

// ------------------------------------------------------------------ header

export function haltText(halt) {
  if (!halt) return 'no store';
  return halt.halted ? 'HALTED' : 'trading';
}

async function loadHeader() {
  const s = await api('/api/status');
  const hb = $('halt-badge');
  hb.textContent = haltText(s.halt);
  hb.className = `badge ${s.halt?.halted ? 'bad' : 'ok'}`;
  hb.title = s.halt?.halted ? `${s.halt.reason ?? ''} (${s.halt.by ?? ''}, ${fmt.dateTime(s.halt.at)})` : '';
  $('equity-badge').textContent = s.equity ? `equity ${fmt.usd(s.equity.equityUsd)}` : 'no equity yet';
  $('footer-info').textContent =
    `${s.role === 'run' ? 'pm-arb run' : 'pm-arb dashboard'} · ${s.paper ? 'paper trading' : 'LIVE trading'}` +
    `${s.feeds ? ` · feeds ${s.feeds}` : ''} · bus ${s.transport} · store ${s.store}`;
  $('token-at').textContent = s.controlTokenAt;
}

// ------------------------------------------------------------------ control

const controlListeners = [];

export const control = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  unlocked: () => sessionStorage.getItem(TOKEN_KEY) !== null,
  /** Calls fn(unlocked) now and whenever the lock changes. */
  watch(fn) {
    controlListeners.push(fn);
    fn(control.unlocked());
  },
  /**
   * Asks for confirmation (who and why), then POSTs to /api/control/<action>. Resolves to the answer, or null when
   * cancelled. Errors are shown in the dialog and thrown.
   */
  async act(action, body, ask) {
    const answer = await confirmDialog(ask);
    if (!answer) return null;
    const res = await fetch(`/api/control/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${control.token()}` },
      body: JSON.stringify({ ...body, ...answer, source: 'dashboard' }),
    });
    const out = await res.json().catch(() => ({}));
    if (res.status === 401) lock();
    if (!res.ok) {
      toast(out.error ?? `${res.status} ${res.statusText}`, 'bad');
      throw new ApiError(out.error ?? res.statusText);
    }
    toast(out.message ?? 'done', 'ok');
    return out;
  },
};

function notifyControl() {
  const u = control.unlocked();
  document.body.classList.toggle('unlocked', u);
  $('unlock').textContent = u ? 'Lock controls' : 'Unlock controls';
  for (const b of document.querySelectorAll('button.control')) b.disabled = !u;
  for (const fn of controlListeners) fn(u);
}

function lock() {
  sessionStorage.removeItem(TOKEN_KEY);
  notifyControl();
}

function setupUnlock() {
  const dlg = $('token-dialog');
  $('unlock').addEventListener('click', () => {
    if (control.unlocked()) {
      lock();
      return;
    }
    $('token-error').textContent = '';
    $('token-input').value = '';
    dlg.showModal();
  });
  $('token-ok').addEventListener('click', async (e) => {
    e.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) return;
    const res = await fetch('/api/control/whoami', { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      $('token-error').textContent = 'That token was refused.';
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    dlg.close('ok');
    notifyControl();
  });
}

/** The confirmation dialog: resolves to { actor, reason } or null. */
function confirmDialog({ title, text, danger = false, reason = '' }) {
  const dlg = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-actor').value = localStorage.getItem(ACTOR_KEY) ?? '';
  $('confirm-reason').value = reason;
  $('confirm-error').textContent = '';
  $('confirm-ok').className = danger ? 'danger' : '';
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener(
      'close',
      () => {
        if (dlg.returnValue !== 'ok') return resolve(null);
        const actor = $('confirm-actor').value.trim();
        if (actor) localStorage.setItem(ACTOR_KEY, actor);
        resolve({ actor, reason: $('confirm-reason').value.trim() });
      },
      { once: true },
    );
  });
}

export function toast(text, kind = 'ok') {
  const t = h('div', { class: `toast ${kind}`, role: 'status' }, text);
  document.body.append(t);
  setTimeout(() => t.remove(), 6000);
}

// ------------------------------------------------------------------ filters and pagers

/**
 * Fills the selects of a filter form and calls `onChange(values)` when one changes. `options` maps a select's
 * name to its choices ([value] or [value, label]).
 */
export function filters(formId, options, onChange) {
  const form = $(formId);
  for (const [name, values] of Object.entries(options)) {
    const sel = form.elements.namedItem(name);
    if (!sel) continue;
    const keep = sel.value;
    sel.replaceChildren(
      h('option', { value: '' }, 'all'),
      ...values.map((v) =>
        Array.isArray(v) ? h('option', { value: v[0] }, v[1]) : h('option', { value: v }, v),
      ),
    );
    sel.value = keep;
  }
  const values = () => Object.fromEntries(new FormData(form).entries());
  if (onChange && !form.dataset.bound) {
    form.dataset.bound = '1';
    form.addEventListener('change', () => onChange(values()));
  }
  return values;
}

/**
 * A newest-first pager over a keyset cursor. `load(cursor)` fetches a page ({ rows, next, total, totalCapped }).
 * The first page follows live updates; older pages stay where they are until "Newest".
 */
export function cursorPager(elId, load, render) {
  const el = $(elId);
  const stack = [];
  let current;
  let last;
  const total = '';
  const draw = () => {
    el.replaceChildren(
      h('button', { disabled: stack.length === 0, onclick: () => go(undefined, true) }, '« Newest'),
      h('button', { disabled: stack.length === 0, onclick: () => go(stack.pop(), false) }, '‹ Newer'),
      h('span', { class: 'page-no' }, `page ${stack.length + 1}`),
      h('button', { disabled: !last?.next, onclick: () => go(last.next, 'push') }, 'Older ›'),
      h('span', { class: 'total' }, total),
    );
  };
  const go = async (cursor, mode) => {
    if (mode === 'push') stack.push(current);
    if (mode === true) stack.length = 0;
    current = cursor;
    await reload();
  };
  const reload = async () => {
    last = await load(current);
    render(last);
    draw();
  };
  return {
    reload,
    reset: () => go(undefined, true),
    get onFirstPage() {
      return stack.length === 0;
    },
  };
}

/** An offset pager for small tables (positions, links). */
export function offsetPager(elId, pageSize, load, render) {
  const el = $(elId);
  let offset = 0;
  let last;
  const draw = () => {
    const total = last?.total ?? 0;
    el.replaceChildren(
      h(
        'button',
        { disabled: offset === 0, onclick: () => go(Math.max(0, offset - pageSize)) },
        '‹ Previous',
      ),
      h(
        'span',
        { class: 'page-no' },
        total === 0 ? '' : `${offset + 1}–${Math.min(total, offset + pageSize)} of ${total}`,
      ),
      h('button', { disabled: offset + pageSize >= total, onclick: () => go(offset + pageSize) }, 'Next ›'),
    );
  };
  const go = async (o) => {
    offset = o;
    await reload();
  };
  const reload = async () => {
    last = await load(offset, pageSize);
    render(last);
    draw();
  };
  return { reload, reset: () => go(0) };
}

// ------------------------------------------------------------------ charts (uPlot)

/**
 * A uPlot chart in the element `id`, sized to it and resized with the window. `series` as uPlot takes them (the
 * x series first is added here: time in seconds). Returns { setData(data) }.
 */
export function chart(id, series, opts = {}) {
  const el = $(id);
  const size = () => ({
    width: Math.max(300, el.clientWidth),
    height: opts.height ?? (el.classList.contains('small') ? 160 : 260),
  });
  const u = new window.uPlot(
    {
      ...size(),
      series: [{}, ...series.map((x) => ({ points: { show: false }, ...x }))],
      axes: [{}, { size: 70, values: opts.yValues }],
      // times as the system records them: UTC
      tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      scales: { x: { time: true }, ...(opts.scales ?? {}) },
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    },
    [[], ...series.map(() => [])],
    el,
  );
  window.addEventListener('resize', () => u.setSize(size()));
  el.dataset.drawn = '0';
  return {
    setData(data) {
      u.setData(data);
      el.dataset.drawn = String(data[0]?.length ?? 0);
    },
    uplot: u,
  };
}

export const palette = [
  '#2563eb',
  '#16a34a',
  '#dc2626',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#ca8a04',
  '#4b5563',
];

// ------------------------------------------------------------------ boot

async function boot() {
  setupUnlock();
  notifyControl();
  const header = refresher(loadHeader, 1000);
  on(['system', 'equity', 'control'], header);
  await header();
  connectLive();
  const mod = await import(`./pages/${page}.js`);
  await mod.mount({
    api,
    on,
    refresher,
    control,
    fillTable,
    money,
    num,
    bar,
    h,
    fmt,
    filters,
    cursorPager,
    offsetPager,
    chart,
    palette,
    toast,
    last: () => lastUpdate,
  });
  document.body.dataset.ready = '1';
}

boot().catch((err) => setError(`the page failed to start: ${err.message}`));

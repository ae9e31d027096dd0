/** Risk: limits against their usage, decisions by rule over time, the halt state and the kill switch. */
export async function mount(ui) {
  const { api, fmt, h, fillTable, money, num, bar, chart, palette, cursorPager, filters, control } = ui;
  let rulesChart;
  let ruleNames = [];
  let df = {};

  const haltPanel = (r) => {
    const s = r.halt;
    const panel = document.getElementById('halt-panel');
    panel.classList.toggle('halted', s.halted);
    document
      .getElementById('halt-state')
      .replaceChildren(
        h('div', { class: 'halt-title', id: 'halt-title' }, s.halted ? 'TRADING HALTED' : 'Trading'),
        s.at
          ? h(
              'div',
              {},
              `${s.halted ? 'Halted' : 'Resumed'} by ${s.by ?? 'unknown'} at ${fmt.dateTime(s.at)}${s.reason ? ` — ${s.reason}` : ''}`,
            )
          : h('div', {}, 'never halted'),
        h(
          'div',
          { class: 'muted' },
          `equity ${fmt.usd(r.equityUsd)} · high-water mark ${fmt.usd(r.highWaterMarkUsd)} · drawdown stop at ${fmt.usd(r.stopLevelUsd)}`,
        ),
      );
    document.getElementById('halt-button').hidden = s.halted;
    document.getElementById('resume-button').hidden = !s.halted;
  };

  const load = async () => {
    const r = await api('/api/risk');
    haltPanel(r);
    fillTable('limits', r.limits, (l) => [
      l.label + (l.detail ? ` (${l.detail})` : ''),
      l.unit === 'usd' ? money(l.used) : num(l.used),
      l.unit === 'usd' ? money(l.limit) : num(l.limit),
      num(fmt.pct(l.usedBps)),
      bar(l.usedBps),
    ]);
    const byRule = await api('/api/decisions/by-rule');
    fillTable(
      'by-rule',
      byRule.rows,
      (x) => [x.rule, x.verdict, num(x.count.toLocaleString('en-US'))],
      'no decision yet',
    );
    filters('decision-filters', {
      verdict: ['approve', 'reduce', 'reject'],
      rule: [...new Set(byRule.rows.map((x) => x.rule))].sort(),
    });
    const t = await api('/api/decisions/timeline', { buckets: 60 });
    const rules = [...new Set(t.rows.map((x) => x.rule))].sort();
    if (!rulesChart || rules.join() !== ruleNames.join()) {
      ruleNames = rules;
      document.getElementById('rules-chart').replaceChildren();
      rulesChart = chart(
        'rules-chart',
        rules.map((n, i) => ({ label: n, stroke: palette[i % palette.length], width: 2 })),
      );
    }
    const xs = [];
    for (let b = t.since; b <= t.until; b += t.bucketMs) xs.push(b);
    const idx = new Map(xs.map((b, i) => [b, i]));
    const data = [xs.map((b) => b / 1000), ...rules.map(() => xs.map(() => 0))];
    for (const row of t.rows) {
      const i = idx.get(row.bucket);
      if (i !== undefined) data[1 + rules.indexOf(row.rule)][i] += row.count;
    }
    rulesChart.setData(data);
  };

  const actions = cursorPager(
    'actions-pager',
    (cursor) => api('/api/audit', { cursor, limit: 20 }),
    (p) =>
      fillTable(
        'actions',
        p.rows,
        (a) => [
          fmt.dateTime(a.at),
          a.action,
          a.target ?? (a.params.enabled === undefined ? '' : String(a.params.enabled)),
          a.actor,
          `${a.source}${a.remote ? ` (${a.remote})` : ''}`,
          a.reason,
          h(
            'span',
            { class: `tag ${a.outcome === 'ok' ? 'ok' : 'bad'}`, title: a.detail ?? '' },
            a.outcome === 'ok' ? 'done' : `failed: ${a.detail ?? ''}`,
          ),
        ],
        'no control action yet',
      ),
  );

  const values = filters('decision-filters', { verdict: ['approve', 'reduce', 'reject'], rule: [] }, (v) => {
    df = v;
    void decisions.reset();
  });
  df = values();
  const decisions = cursorPager(
    'decision-pager',
    (cursor) => api('/api/decisions', { ...df, cursor, limit: 25 }),
    (p) =>
      fillTable(
        'decisions',
        p.rows,
        (d) => [fmt.time(d.decidedAt), d.strategy, d.verdict, d.rule, d.reason],
        'no decision matches',
      ),
  );

  const act = (action, title, text, danger) => async () => {
    await control.act(action, {}, { title, text, danger }).catch(() => undefined);
    await reload();
    await actions.reload();
  };
  document
    .getElementById('halt-button')
    .addEventListener(
      'click',
      act(
        'halt',
        'Halt all trading?',
        'Every trading agent stops taking new risk (no new orders) until you resume. Open positions stay.',
        true,
      ),
    );
  document
    .getElementById('resume-button')
    .addEventListener(
      'click',
      act('resume', 'Resume trading?', 'Trading agents take new risk again under the usual limits.', false),
    );

  const reload = ui.refresher(load, 1000);
  const reloadActions = ui.refresher(() => actions.reload(), 500);
  const reloadDecisions = ui.refresher(() => decisions.reload(), 1000);
  ui.on(['system', 'equity', 'orders', 'positions', 'decisions', 'control'], reload);
  ui.on(['control', 'system'], reloadActions);
  ui.on(['decisions'], reloadDecisions);
  await Promise.all([reload(), reloadActions(), reloadDecisions()]);
}

/** Opportunities and what became of them (traded, rejected by which rule and why, expired), and the fills. */
export async function mount(ui) {
  const { api, fmt, h, fillTable, money, num, cursorPager, filters } = ui;
  let f = {};

  const outcome = (o) => {
    switch (o.status) {
      case 'traded':
        return h('span', { class: 'tag ok' }, `traded (${o.execution}) · ${o.strategy}`);
      case 'rejected':
        return h(
          'span',
          { class: 'tag bad', title: o.reason },
          `rejected: ${o.rule} · ${o.strategy}`,
          h('div', { class: 'reason' }, o.reason),
        );
      case 'failed':
        return h(
          'span',
          { class: 'tag bad', title: o.reason },
          `${o.execution}: ${o.reason} · ${o.strategy}`,
        );
      case 'approved':
        return h('span', { class: 'tag' }, `approved, executing · ${o.strategy}`);
      case 'requested':
        return h('span', { class: 'tag' }, `requested · ${o.strategy}`);
      case 'expired':
        return h('span', { class: 'tag muted' }, 'expired (not taken)');
      default:
        return h('span', { class: 'tag' }, 'open');
    }
  };
  const legs = (r) =>
    h(
      'div',
      { class: 'legs' },
      r.legs.map((l) =>
        h(
          'div',
          { title: `${l.venue}:${l.marketId}` },
          `${l.side} ${l.venue} · ${l.question ?? l.marketId} @ ${fmt.decimal(l.limitPrice, 4)}`,
        ),
      ),
    );

  const strategies = (await api('/api/strategies')).rows.map((s) => s.strategy);
  const values = filters(
    'opp-filters',
    {
      kind: ['oracle_lag', 'cross_venue', 'rebalancing', 'combinatorial'],
      strategy: strategies,
      venue: ['polymarket', 'kalshi'],
      outcome: ['traded', 'rejected', 'expired'],
    },
    (v) => {
      f = v;
      void opps.reset();
      void fills.reset();
    },
  );
  f = values();

  const opps = cursorPager(
    'opp-pager',
    (cursor) => api('/api/opportunities', { ...f, cursor, limit: 50 }),
    (p) => {
      document.getElementById('opp-count').textContent = p.totalText;
      fillTable(
        'opportunities',
        p.rows,
        (r) => [
          fmt.time(r.detectedAt),
          r.kind,
          legs(r),
          money(r.edgeUsd),
          num(String(r.edgeBps)),
          num(fmt.decimal(r.shares, 2)),
          h('div', {}, r.outcomes.map(outcome)),
        ],
        'no opportunity matches',
      );
    },
  );
  const fills = cursorPager(
    'fill-pager',
    (cursor) => api('/api/fills', { strategy: f.strategy, venue: f.venue, cursor, limit: 50 }),
    (p) => {
      document.getElementById('fill-count').textContent = p.totalText;
      fillTable(
        'fills',
        p.rows,
        (r) => [
          fmt.time(r.ts),
          r.strategy,
          r.venue,
          h(
            'span',
            { title: `${r.venue}:${r.marketId}` },
            `${r.question ?? r.marketId}${r.outcome ? ` · ${r.outcome}` : ''}`,
          ),
          r.side,
          num(fmt.decimal(r.price, 4)),
          num(fmt.decimal(r.shares, 2)),
          money(r.notionalUsd),
          money(r.feeUsd, { decimals: 4 }),
          r.kind,
        ],
        'no fill yet',
      );
    },
  );
  const reloadOpps = ui.refresher(() => opps.reload(), 700);
  const reloadFills = ui.refresher(() => fills.reload(), 700);
  ui.on(['opportunities', 'decisions'], reloadOpps);
  ui.on(['fills'], reloadFills);
  await Promise.all([reloadOpps(), reloadFills()]);
}

/** Positions: open ones at their mark, closed ones with what they realized. */
export async function mount(ui) {
  const { api, fmt, h, fillTable, money, num, offsetPager, filters } = ui;
  const market = (r) => h('span', { title: `${r.venue}:${r.marketId}` }, r.question ?? r.marketId);
  let f = {};

  const strategies = (await api('/api/strategies')).rows.map((s) => s.strategy);
  const values = filters(
    'positions-filters',
    { strategy: strategies, venue: ['polymarket', 'kalshi'] },
    (v) => {
      f = v;
      void open.reset();
      void closed.reset();
    },
  );
  f = values();

  const open = offsetPager(
    'open-pager',
    50,
    (offset, limit) => api('/api/positions', { status: 'open', offset, limit, ...f }),
    (p) => {
      document.getElementById('open-count').textContent = `${p.total}`;
      fillTable(
        'open-positions',
        p.rows,
        (r) => [
          r.venue,
          market(r),
          // the side only where the label does not say it ("Trump" (yes), not "Yes" (yes))
          `${r.outcome ?? r.tokenId}${r.side && r.side !== 'other' && r.side !== r.outcome?.toLowerCase() ? ` (${r.side})` : ''}`,
          num(fmt.decimal(r.shares, 2)),
          num(fmt.decimal(r.avgPrice, 4)),
          num(fmt.decimal(r.mark, 4)),
          money(r.valueUsd),
          money(r.unrealizedPnlUsd, { signed: true }),
          r.timeToResolutionMs === null
            ? '—'
            : r.timeToResolutionMs <= 0
              ? 'due'
              : fmt.duration(r.timeToResolutionMs),
          r.strategy ?? '—',
        ],
        'no open position (as of the last allocation round, every minute)',
      );
    },
  );
  const closed = offsetPager(
    'closed-pager',
    50,
    (offset, limit) => api('/api/positions', { status: 'closed', offset, limit, ...f }),
    (p) => {
      document.getElementById('closed-count').textContent = `${p.total}`;
      fillTable(
        'closed-positions',
        p.rows,
        (r) => [
          r.venue,
          market(r),
          r.outcome ?? r.tokenId,
          money(r.realizedPnlUsd, { signed: true }),
          r.strategy ?? '—',
          fmt.dateTime(r.ts),
        ],
        'no closed position',
      );
    },
  );
  const reload = ui.refresher(() => Promise.all([open.reload(), closed.reload()]), 1000);
  ui.on(['positions', 'fills'], reload);
  await reload();
}

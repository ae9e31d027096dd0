/** Strategies: the tournament leaderboard, allocation now and over time, and enable/disable. */
export async function mount(ui) {
  const { api, fmt, h, fillTable, money, num, chart, palette, control } = ui;
  let alloc;
  let names = [];

  const toggle = (r) =>
    h(
      'button',
      {
        class: 'control',
        disabled: !control.unlocked(),
        'data-strategy': r.strategy,
        onclick: async () => {
          const enabled = r.enabled === false;
          await control
            .act(
              'strategy',
              { strategy: r.strategy, enabled },
              {
                title: `${enabled ? 'Enable' : 'Disable'} ${r.strategy}?`,
                text: enabled
                  ? 'It will start requesting trades again.'
                  : 'It makes no new trade requests until enabled (open positions stay).',
                danger: !enabled,
              },
            )
            .catch(() => undefined);
          await board();
        },
      },
      r.enabled === false ? 'Enable' : 'Disable',
    );

  const board = async () => {
    const s = await api('/api/strategies');
    fillTable('leaderboard', s.rows, (r) => [
      num(String(s.rows.indexOf(r) + 1)),
      r.strategy,
      num(r.score === null ? '—' : r.score.toFixed(3)),
      money(r.allocationUsd),
      money(r.pnlUsd, { signed: true }),
      num(r.sharpe === null ? '—' : r.sharpe.toFixed(2)),
      money(r.maxDrawdownUsd),
      num(fmt.ratio(r.winRate)),
      num(String(r.trades)),
      h(
        'span',
        { class: `tag ${r.enabled === false ? 'bad' : r.enabled ? 'ok' : 'muted'}` },
        r.enabled === false ? 'disabled' : r.enabled ? 'enabled' : 'unknown',
      ),
      toggle(r),
    ]);
    const fresh = s.rows.map((r) => r.strategy).sort();
    if (!alloc || fresh.join() !== names.join()) {
      names = fresh;
      document.getElementById('allocation-chart').replaceChildren();
      alloc = chart(
        'allocation-chart',
        names.map((n, i) => ({
          label: n,
          stroke: palette[i % palette.length],
          width: 2,
          paths: window.uPlot.paths?.stepped?.({ align: 1 }),
          value: (_u, v) => (v === null ? '—' : fmt.usd(String(v))),
        })),
        { yValues: (_u, t) => t.map((x) => fmt.usd(String(x), { decimals: 0 })) },
      );
    }
  };
  const history = async () => {
    const a = await api('/api/strategies/allocations', { points: 400 });
    const data = [
      a.points.map((p) => p.ts / 1000),
      ...names.map((n) => a.points.map((p) => fmt.plot(p.allocations[n] ?? null))),
    ];
    alloc.setData(data);
  };
  const reload = ui.refresher(async () => {
    await board();
    await history();
  }, 1500);
  ui.on(['strategies'], reload);
  control.watch(() => void board());
  await reload();
}

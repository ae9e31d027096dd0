/** Portfolio: equity now and over time, drawdown against the ratchet stop, today against the daily-loss limit. */
export async function mount(ui) {
  const { api, fmt, h, fillTable, money, num, bar, chart, palette } = ui;

  const card = (title, value, sub, extra) =>
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'card-title' }, title),
      h('div', { class: 'card-value' }, value),
      h('div', { class: 'card-sub' }, sub),
      extra,
    );

  const equity = chart(
    'equity-chart',
    [
      {
        label: 'Equity',
        stroke: palette[0],
        width: 2,
        value: (_u, v) => (v === null ? '—' : fmt.usd(String(v))),
      },
      {
        label: 'High-water mark',
        stroke: palette[1],
        dash: [6, 4],
        value: (_u, v) => (v === null ? '—' : fmt.usd(String(v))),
      },
      {
        label: 'Drawdown stop',
        stroke: palette[2],
        dash: [2, 4],
        value: (_u, v) => (v === null ? '—' : fmt.usd(String(v))),
      },
    ],
    { yValues: (_u, ticks) => ticks.map((t) => fmt.usd(String(t), { decimals: 0 })) },
  );
  const drawdown = chart(
    'drawdown-chart',
    [
      {
        label: 'Drawdown %',
        stroke: palette[2],
        fill: 'rgba(220,38,38,0.12)',
        value: (_u, v) => (v === null ? '—' : `${v.toFixed(2)}%`),
      },
      {
        label: 'Limit %',
        stroke: palette[7],
        dash: [6, 4],
        value: (_u, v) => (v === null ? '—' : `${v.toFixed(2)}%`),
      },
    ],
    { yValues: (_u, ticks) => ticks.map((t) => `${t}%`) },
  );

  let series = { x: [], eq: [], hwm: [], stop: [], dd: [], limit: [] };
  let limitPct = 0;

  const draw = () => {
    equity.setData([series.x, series.eq, series.hwm, series.stop]);
    drawdown.setData([series.x, series.dd, series.limit]);
  };

  const loadCurve = async () => {
    const r = await api('/api/portfolio/equity', { points: 800 });
    limitPct = r.drawdownLimitBps / 100;
    series = { x: [], eq: [], hwm: [], stop: [], dd: [], limit: [] };
    for (const p of r.points) push(p.ts, p.equityUsd, p.highWaterMarkUsd, p.stopLevelUsd, p.drawdownBps);
    draw();
  };

  function push(ts, eq, hwm, stop, ddBps) {
    series.x.push(ts / 1000);
    series.eq.push(fmt.plot(eq));
    series.hwm.push(fmt.plot(hwm));
    series.stop.push(fmt.plot(stop));
    series.dd.push(ddBps / 100);
    series.limit.push(limitPct);
  }

  const loadFigures = async () => {
    const p = await api('/api/portfolio');
    document
      .getElementById('portfolio-cards')
      .replaceChildren(
        card(
          'Equity',
          fmt.usd(p.equityUsd),
          `cash ${fmt.usd(p.cashUsd)} · positions ${fmt.usd(p.positionsValueUsd)}`,
        ),
        card(
          'Since start',
          fmt.usd(p.sinceStart.pnlUsd, { signed: true }),
          `${fmt.pct(p.sinceStart.returnBps)} of ${fmt.usd(p.initialBankrollUsd)}`,
        ),
        card(
          'Today',
          fmt.usd(p.today.pnlUsd, { signed: true }),
          `loss ${fmt.usd(p.today.lossUsd)} of the ${fmt.usd(p.today.limitUsd)} daily limit`,
          bar(p.today.usedBps),
        ),
        card(
          'Drawdown',
          fmt.usd(p.drawdown.drawdownUsd),
          `stop at ${fmt.usd(p.drawdown.stopLevelUsd)} (high-water mark ${fmt.usd(p.drawdown.highWaterMarkUsd)}, limit ${fmt.pct(p.drawdown.limitBps)})`,
          bar(p.drawdown.usedBps),
        ),
        card(
          'P&L',
          fmt.usd(p.realizedPnlUsd, { signed: true }),
          `realized · unrealized ${fmt.usd(p.unrealizedPnlUsd, { signed: true })}`,
        ),
      );
    fillTable('venues', p.venues, (v) => [
      v.venue,
      num(v.positions),
      money(v.costUsd),
      money(v.valueUsd),
      money(v.unrealizedPnlUsd),
      money(v.limitUsd),
    ]);
    fillTable('days', p.days, (d) => [
      fmt.day(d.day),
      money(d.endEquityUsd),
      d.pnlUsd === null ? '—' : money(d.pnlUsd, { signed: true }),
      num(d.fills),
      money(d.feesUsd, { decimals: 4 }),
    ]);
  };

  const figures = ui.refresher(loadFigures, 1000);
  ui.on(['equity', 'positions', 'fills', 'system'], figures);
  ui.on(['equity'], (u) => {
    if (!u.equity) return;
    for (const p of u.equity) {
      if (series.x.length > 0 && p.ts / 1000 <= series.x.at(-1)) continue;
      push(p.ts, p.equity, p.highWaterMark, p.stopLevel, p.drawdownBps);
    }
    draw();
  });
  await Promise.all([loadCurve(), loadFigures()]);
}

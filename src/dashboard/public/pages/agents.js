/** Agents and feeds: state and heartbeat age, feed connection, staleness, reconnects, messages/s; dead letters. */
export async function mount(ui) {
  const { api, fmt, h, fillTable, num } = ui;
  const state = (s, stale) =>
    h(
      'span',
      {
        class: `tag ${stale ? 'bad' : s === 'running' ? 'ok' : s === 'halted' || s === 'paused' ? 'warn' : s === 'faulted' ? 'bad' : 'muted'}`,
      },
      stale ? `${s} (no heartbeat)` : s,
    );
  const load = async () => {
    const a = await api('/api/agents');
    fillTable(
      'feeds',
      a.feeds,
      (f) => [
        f.agent,
        h('span', { class: `tag ${f.connected ? 'ok' : 'bad'}` }, f.connected ? 'connected' : 'down'),
        f.lastMessageAgeMs === null ? '—' : `${fmt.duration(f.lastMessageAgeMs)} ago`,
        num(f.staleBooks ?? '—'),
        num(f.reconnects ?? '—'),
        num(f.messagesPerSec === null ? '—' : f.messagesPerSec.toFixed(1)),
        num(f.frames === null ? '—' : f.frames.toLocaleString('en-US')),
        num(f.framesRejected ?? '—'),
      ],
      'no feed has reported yet',
    );
    fillTable(
      'agents',
      a.agents,
      (x) => [
        x.agent,
        x.instance,
        state(x.state, x.stale),
        `${fmt.duration(x.heartbeatAgeMs)} ago`,
        num(x.processed === null ? '—' : x.processed.toLocaleString('en-US')),
        num(x.failed ?? '—'),
        `${x.host}/${x.pid}`,
      ],
      'no agent has reported yet',
    );
    const d = a.deadLetters;
    document.getElementById('dlq-total').textContent = d.available
      ? `${d.total} in all`
      : 'not connected to the bus';
    fillTable(
      'dead-letters',
      d.channels,
      (c) => [c.channel, num(`${c.count}${c.capped ? '+' : ''}`), c.lastError ?? '', fmt.dateTime(c.lastAt)],
      'no dead letter',
    );
  };
  const reload = ui.refresher(load, 1000);
  ui.on(['agents'], reload);
  await reload();
}

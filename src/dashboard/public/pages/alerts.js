/** Alerts: which events alert and their thresholds (editable with the control token), and the alert log. */
export async function mount(ui) {
  const { api, fmt, h, fillTable, cursorPager, control } = ui;
  const level = '';

  const editor = (r) => {
    const area = h(
      'textarea',
      { rows: 2, class: 'json', 'data-key': r.key, readonly: !control.unlocked() },
      JSON.stringify(r.value),
    );
    const save = h(
      'button',
      {
        class: 'control',
        disabled: !control.unlocked(),
        onclick: async () => {
          let value;
          try {
            value = JSON.parse(area.value);
          } catch {
            ui.toast(`${r.key}: not valid JSON`, 'bad');
            return;
          }
          await control
            .act(
              'alert-setting',
              { key: r.key, value },
              {
                title: `Save the alert setting ${r.key}?`,
                text: JSON.stringify(value),
                reason: `set ${r.key}`,
              },
            )
            .catch(() => undefined);
          await settings();
        },
      },
      'Save',
    );
    return [area, save];
  };

  const settings = async () => {
    const s = await api('/api/alerts/settings');
    fillTable('alert-settings', s.rows, (r) => {
      const [area, save] = editor(r);
      return [r.key, r.description, area, r.stored ? fmt.dateTime(r.updatedAt) : 'default', save];
    });
  };
  const log = cursorPager(
    'alert-pager',
    (cursor) => api('/api/alerts/log', { level, cursor, limit: 50 }),
    (p) =>
      fillTable(
        'alert-log',
        p.rows,
        (a) => [
          fmt.dateTime(a.ts),
          h(
            'span',
            { class: `tag ${a.level === 'critical' ? 'bad' : a.level === 'warning' ? 'warn' : 'muted'}` },
            a.level,
          ),
          a.title,
          a.body,
        ],
        'no alert yet',
      ),
  );
  const reload = ui.refresher(() => Promise.all([settings(), log.reload()]), 1000);
  ui.on(['alerts'], reload);
  control.watch(() => void settings());
  await reload();
}

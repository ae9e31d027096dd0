/** Matches: the review queue (approve / reject), the linked pairs, and both markets' rules side by side. */
export async function mount(ui) {
  const { api, fmt, h, fillTable, num, offsetPager, filters, control } = ui;
  let lf = {};
  const ref = (r) => `${r.venue}:${r.marketId}`;
  const market = (r, q) =>
    h('div', {}, h('div', {}, q ?? r.marketId), h('div', { class: 'muted small' }, ref(r)));
  const view = (a, b) =>
    h(
      'a',
      {
        href: '#pair',
        onclick: (e) => {
          e.preventDefault();
          void pair(a, b);
        },
      },
      'rules',
    );

  async function pair(a, b) {
    const p = await api('/api/matches/pair', { a: ref(a), b: ref(b) });
    const side = (m, r) =>
      m
        ? [
            h('h3', {}, m.question),
            h(
              'div',
              { class: 'muted small' },
              `${ref(r)} · ${m.status}${m.endTime ? ` · ends ${fmt.dateTime(m.endTime)}` : ''}`,
            ),
            h('div', { class: 'small' }, `outcomes: ${m.outcomes.map((o) => o.label).join(' / ')}`),
            h('pre', { class: 'rules' }, m.rules || '(no rules text)'),
          ]
        : [h('p', {}, `${ref(r)}: not in the store`)];
    document.getElementById('pair-a').replaceChildren(...side(p.a, a));
    document.getElementById('pair-b').replaceChildren(...side(p.b, b));
    const sec = document.getElementById('pair');
    sec.hidden = false;
    sec.scrollIntoView({ behavior: 'smooth' });
  }

  const decide = (r, decision) =>
    h(
      'button',
      {
        class: `control${decision === 'reject' ? ' danger' : ''}`,
        disabled: !control.unlocked(),
        'data-decision': decision,
        onclick: async () => {
          await control
            .act(
              'match',
              { a: ref(r.a), b: ref(r.b), decision },
              {
                title: `${decision === 'approve' ? 'Link' : 'Keep apart'} these markets?`,
                text: `${r.aQuestion ?? ref(r.a)}  ⟷  ${r.bQuestion ?? ref(r.b)}${decision === 'approve' ? ` (as ${r.relation === 'different' || r.relation === 'undetermined' ? 'identical' : r.relation}; the scanner trades on it)` : ''}`,
                danger: decision === 'approve',
              },
            )
            .catch(() => undefined);
          await reload();
        },
      },
      decision === 'approve' ? 'Approve' : 'Reject',
    );

  const review = async () => {
    const q = await api('/api/matches/review');
    document.getElementById('review-count').textContent = `${q.total} waiting`;
    fillTable(
      'review',
      q.rows,
      (r) => [
        market(r.a, r.aQuestion),
        market(r.b, r.bQuestion),
        `${r.relation}${r.why === 'undetermined' ? ' (undetermined)' : ''}`,
        num(r.confidence.toFixed(2)),
        r.stage,
        h('div', { class: 'small' }, r.reasons.slice(0, 4).join(' · ')),
        h('div', { class: 'actions' }, view(r.a, r.b), decide(r, 'approve'), decide(r, 'reject')),
      ],
      'nothing to review',
    );
  };

  const values = filters(
    'link-filters',
    {
      relation: ['identical', 'inverted', 'implies', 'exclusive', 'different'],
      stage: ['rules', 'llm', 'cache', 'manual'],
    },
    (v) => {
      lf = v;
      void links.reset();
    },
  );
  lf = values();
  const links = offsetPager(
    'links-pager',
    25,
    (offset, limit) => api('/api/matches', { ...lf, offset, limit }),
    (p) => {
      document.getElementById('links-count').textContent = `${p.total}`;
      fillTable(
        'links',
        p.rows,
        (l) => [
          market(l.a, l.a.question),
          market(l.b, l.b.question),
          h('span', { class: `tag ${l.relation === 'different' ? 'muted' : 'ok'}` }, l.relation),
          num(l.confidence.toFixed(2)),
          l.stage,
          h('div', { class: 'small' }, l.reasons.slice(0, 3).join(' · ')),
          h('div', {}, fmt.dateTime(l.decidedAt), ' ', view(l.a, l.b)),
        ],
        'no linked pair yet',
      );
    },
  );
  const reload = ui.refresher(() => Promise.all([review(), links.reload()]), 1000);
  ui.on(['matches', 'control'], reload);
  control.watch(() => void review());
  await reload();
}

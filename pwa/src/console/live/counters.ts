// The figures above the map: confirmed, 遅延, overdue, need help, open escalations, the targets.
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import { timeOf } from '../common';
import { present, statusMarker } from './dom';
import { overall, percent } from './progress';
import { openEscalations, type LiveState } from './state';

export function renderCounters(countersEl: HTMLElement, state: LiveState): void {
  if (!state.summary) return;
  const o = overall(state.summary.districts);
  const pct = percent(o.confirmed, o.total);
  const open = openEscalations(state);
  const op = state.summary.operation;
  countersEl.replaceChildren(...present(
    h('div', { class: 'counter', 'data-counter': 'confirmed' },
      h('span', { class: 'counter-label' }, t('console.counter.confirmed')),
      h('span', { class: 'counter-value', 'data-value': o.confirmed }, t('console.counter.ofTotal', { confirmed: o.confirmed, total: o.total, percent: pct ?? 0 }))),
    h('div', { class: 'counter', 'data-counter': 'late' },
      h('span', { class: 'counter-label' }, statusMarker('late'), t('console.counter.late')),
      h('span', { class: 'counter-value', 'data-value': o.late }, t('console.count', { count: o.late }))),
    h('div', { class: 'counter', 'data-counter': 'overdue' },
      h('span', { class: 'counter-label' }, t('console.overdue')),
      h('span', { class: 'counter-value', 'data-value': o.overdue }, t('console.count', { count: o.overdue }))),
    h('div', { class: 'counter', 'data-counter': 'needHelp' },
      h('span', { class: 'counter-label' }, t('console.counter.needHelp')),
      h('span', { class: 'counter-value', 'data-value': o.needHelp }, t('console.count', { count: o.needHelp }))),
    h('div', { class: 'counter', 'data-counter': 'escalations' },
      h('span', { class: 'counter-label' }, t('console.counter.openEscalations')),
      h('span', { class: 'counter-value', 'data-value': open }, t('console.count', { count: open }))),
    state.summary.late_at
      ? h('div', { class: 'counter', 'data-counter': 'firstReportTarget' },
          h('span', { class: 'counter-label' }, t('console.counter.firstReportTarget')),
          h('span', { class: 'counter-value' }, timeOf(state.summary.late_at, true)))
      : null,
    state.summary.overdue_at
      ? h('div', { class: 'counter' },
          h('span', { class: 'counter-label' }, t('console.counter.deadline')),
          h('span', { class: 'counter-value' }, timeOf(state.summary.overdue_at, true)))
      : null,
    // The operation's target count covers every household; the viewer is shown those the disclosure
    // rule lets them see, so the two figures differ: say why instead of leaving two numbers.
    op.targets > o.total
      ? h('p', { class: 'notice', 'data-hidden-targets': op.targets - o.total }, t('console.counter.hiddenTargets', { targets: op.targets, shown: o.total, hidden: op.targets - o.total }))
      : null,
    op.status === 'closed' ? h('p', { class: 'notice' }, t('console.closed')) : null,
  ));
}

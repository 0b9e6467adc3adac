// The escalations tab: 緊急 / 要連絡 reports to acknowledge, assign and resolve, with a note.
import { t, type MessageKey } from '../../i18n';
import { h } from '../../ui/dom';
import { timeOf } from '../common';
import { outcomeText } from './labels';
import type { LiveActions, LiveState } from './state';

export function escalationPanel(state: LiveState, actions: LiveActions): Node[] {
  if (state.escalations.length === 0) return [h('p', { 'data-escalations-empty': '' }, t('console.esc.none'))];
  return [h('ul', { class: 'esc-list', 'data-escalations': '' }, ...state.escalations.map((e) => {
    const note = h('textarea', { id: `esc-note-${e.id}`, rows: 2, maxlength: 2000 });
    note.value = state.drafts.get(e.id) ?? '';
    note.addEventListener('input', () => state.drafts.set(e.id, note.value));
    const ack = h('button', { type: 'button', id: `esc-ack-${e.id}`, 'data-ack': e.id, disabled: e.status !== 'open' }, t('console.esc.acknowledge'));
    // A note goes with the first action that saves it; the draft is then cleared so a later
    // action does not append the same memo again.
    const saving = (path: string, body: Record<string, unknown>) => actions.act(async (api) => {
      await api.post(path, { ...body, note: note.value || null });
      state.drafts.delete(e.id);
    });
    ack.addEventListener('click', () => saving(`/api/escalations/${e.id}/acknowledge`, {}));
    const resolve = h('button', { type: 'button', id: `esc-resolve-${e.id}`, 'data-resolve': e.id, disabled: e.status === 'resolved' }, t('console.esc.resolve'));
    resolve.addEventListener('click', () => saving(`/api/escalations/${e.id}/resolve`, {}));
    const who = h('select', { id: `esc-assign-${e.id}` }, ...state.assignees.map((a) => h('option', { value: a.id, selected: a.id === e.assigned_to }, a.display_name)));
    const assign = h('button', { type: 'button', id: `esc-do-assign-${e.id}`, class: 'secondary', 'data-assign': e.id, disabled: e.status === 'resolved' || state.assignees.length === 0 }, t('console.esc.assign'));
    assign.addEventListener('click', () => saving(`/api/console/escalations/${e.id}/assign`, { user_id: who.value }));
    const show = h('button', { type: 'button', id: `esc-show-${e.id}`, class: 'secondary', 'data-show-household': e.household_id }, t('console.showHousehold'));
    show.addEventListener('click', () => actions.openHousehold(e.household_id, state.liveStatus.get(e.household_id) ?? e.outcome));
    const levelKey: MessageKey = e.level === 'urgent' ? 'console.esc.urgent' : 'console.esc.contact';
    const statusKey: MessageKey = e.status === 'open' ? 'esc.status.open' : e.status === 'acknowledged' ? 'esc.status.acknowledged' : 'console.esc.status.resolved';
    return h('li', { class: `esc esc-${e.level} esc-${e.status}`, 'data-escalation': e.id, 'data-status': e.status },
      h('p', { class: 'esc-head' }, h('strong', {}, t(levelKey)), ` ${outcomeText(e.outcome) ?? t('op.status.unreached')} · ${timeOf(e.created_at)} · `, h('span', { class: 'esc-status' }, t(statusKey))),
      e.address ? h('p', { class: 'esc-address', 'data-esc-address': '' }, e.address) : null,
      e.people && e.people.length > 0
        ? h('ul', { class: 'esc-people', 'data-esc-people': '' }, ...e.people.map((p) => h('li', {}, h('strong', {}, p.name),
            p.phone ? h('span', {}, ` ${t('console.detail.phone')}: `, h('a', { href: `tel:${p.phone}`, class: 'tel' }, p.phone)) : null)))
        : e.address ? h('p', { 'data-esc-people': '' }, t('console.detail.noPeople')) : null,
      h('p', {}, e.assigned_to_name ? t('console.esc.assignedTo', { name: e.assigned_to_name }) : t('console.esc.unassigned')),
      e.notes ? h('p', { class: 'esc-notes' }, e.notes) : null,
      e.status !== 'resolved'
        ? h('div', { class: 'esc-actions' },
            h('label', { for: `esc-note-${e.id}` }, t('console.esc.note')), note,
            h('div', { class: 'esc-buttons' }, ack, resolve),
            h('label', { for: `esc-assign-${e.id}` }, t('console.esc.assignee')),
            h('div', { class: 'esc-buttons' }, who, assign))
        : null,
      show,
    );
  }))];
}

// The detail panel beside the map: the household (or shelter) last clicked, with its live status.
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import { problemText } from '../../ui/problem-text';
import { keepingFocus, present, statusMarker } from './dom';
import type { LiveActions, LiveState } from './state';
import { mapStatus, statusLabel } from './status';
import { vocabLabel } from '../../vocab';

export function renderDetail(detailEl: HTMLElement, state: LiveState, actions: LiveActions): void {
  keepingFocus(detailEl, () => renderDetailNow(detailEl, state, actions));
}

function renderDetailNow(detailEl: HTMLElement, state: LiveState, actions: LiveActions): void {
  if (!state.detail) {
    detailEl.hidden = true;
    detailEl.replaceChildren();
    return;
  }
  detailEl.hidden = false;
  const close = h('button', { type: 'button', id: 'console-detail-close', class: 'secondary', 'data-close-detail': '' }, t('console.detail.close'));
  close.addEventListener('click', () => actions.closeDetail());
  if ('shelter' in state.detail) {
    const p = state.detail.shelter;
    const cap = typeof p['capacity'] === 'number' ? p['capacity'] : null;
    detailEl.replaceChildren(
      h('h2', {}, String(p['name'] ?? '')),
      h('p', {}, p['is_open'] ? t('shelter.open') : t('shelter.closed')),
      h('p', {}, cap !== null ? t('console.shelter.occupancyOf', { occupancy: Number(p['occupancy'] ?? 0), capacity: cap }) : t('console.shelter.occupancy', { occupancy: Number(p['occupancy'] ?? 0) })),
      close,
    );
    return;
  }
  const { id, data, error } = state.detail;
  const raw = state.liveStatus.get(id) ?? state.detail.known;
  const status = mapStatus(raw);
  detailEl.dataset['household'] = id;
  // Every way into the panel (map click, escalation card, list) passes the status it knows.
  const statusLine = raw
    ? h('p', { class: 'detail-status', 'data-status': raw }, statusMarker(status), h('span', {}, statusLabel(status)))
    : null;
  if (error) {
    detailEl.replaceChildren(...present(h('h2', {}, t('common.householdDetail')), statusLine, h('p', { role: 'alert', class: 'error' }, problemText(error)), close));
    return;
  }
  if (!data) {
    detailEl.replaceChildren(...present(h('h2', {}, t('common.householdDetail')), statusLine, h('p', {}, t('home.loading')), close));
    return;
  }
  detailEl.replaceChildren(...present(
    h('h2', {}, data.address),
    statusLine,
    data.disclosed_under === 'disaster' ? h('p', { class: 'notice' }, t('console.detail.underDisaster')) : null,
    h('ul', { class: 'detail-people' },
      ...data.people.map((p) =>
        h('li', {},
          h('strong', {}, p.name),
          p.phone ? h('span', {}, ` ${t('console.detail.phone')}: `, h('a', { href: `tel:${p.phone}` }, p.phone)) : null,
          p.support_reasons && p.support_reasons.length
            ? h('span', { class: 'detail-reasons' }, ` ${p.support_reasons.map((r) => vocabLabel('support_reasons', r)).join('・')}`)
            : null,
        ),
      ),
    ),
    data.people.length === 0 ? h('p', {}, t('console.detail.noPeople')) : null,
    data.notes ? h('p', { class: 'detail-notes' }, data.notes) : null,
    close,
  ));
}

// The escalations a watcher's visits raised (要連絡 / 緊急 / 要救助) and what coordinators did
// with them: open → acknowledged → resolved, with their note. Cached sealed for offline.
import { cachedListNotices, fetchOrCached } from '../fetch-or-cached';
import { outcomeLabel, OUTCOME_TONE } from '../model';
import { t, type MessageKey } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { rememberAfterUnlock, vaultFor } from '../../vault/vault';
import { loadLastKnownUser } from '../../auth/last-known';
import { problemText } from '../../ui/problem-text';

/** `GET /api/field/escalations` item. */
export interface MyEscalation {
  id: string;
  operation_id: string;
  operation_name: string;
  mode: string;
  label: string;
  household_id: string;
  address: string;
  visit_id: string;
  level: string;
  outcome: string;
  status: 'open' | 'acknowledged' | 'resolved';
  created_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  notes: string | null;
}

/**
 * `GET /api/escalations` item: what the viewer is a recipient of (the district's 民生委員, the
 * operation's coordinators), with the address and the people the disclosure rule lets them see.
 */
export interface DistrictEscalation {
  id: string;
  operation_id: string;
  household_id: string;
  mode: string;
  level: string;
  outcome: string;
  status: 'open' | 'acknowledged' | 'resolved';
  created_at: string;
  notes: string | null;
  address?: string | null;
  people?: Array<{ name: string; phone: string | null }>;
}

/** Roles that receive escalations and act on them from the phone. */
const RECIPIENT_ROLES = new Set(['commissioner', 'coordinator']);

const STATUS: Record<MyEscalation['status'], { key: MessageKey; tone: string }> = {
  open: { key: 'esc.status.open', tone: 'danger' },
  acknowledged: { key: 'esc.status.acknowledged', tone: 'warn' },
  resolved: { key: 'esc.status.resolved', tone: 'good' },
};
const CACHE_KEY = 'escalations:mine';
const DISTRICT_KEY = 'escalations:district';

function when(iso: string): string {
  return new Date(iso).toLocaleString('ja-JP', { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export const escalationsPage: PageFactory = (root, ctx) => {
  const db = ctx.outbox?.db;
  const vault = db ? vaultFor(db) : null;
  let list: MyEscalation[] | null = null;
  let savedAt: number | null = null;
  let offline = false;
  let error: unknown = null;
  let disposed = false;
  const role = loadLastKnownUser()?.role ?? '';
  const recipient = RECIPIENT_ROLES.has(role);
  let district: DistrictEscalation[] | null = null;
  let actionError: unknown = null;
  let busy = false;
  const drafts = new Map<string, string>();

  /** The district's escalations still to act on (open, acknowledged): the 民生委員's day. */
  async function loadDistrict(): Promise<void> {
    const got = await fetchOrCached<DistrictEscalation[]>(ctx.api, db, '/api/escalations', DISTRICT_KEY);
    district = (got.value ?? []).filter((e) => e.status !== 'resolved');
  }

  async function act(e: DistrictEscalation, action: 'acknowledge' | 'resolve'): Promise<void> {
    if (busy) return;
    busy = true;
    actionError = null;
    try {
      await ctx.api.post(`/api/escalations/${encodeURIComponent(e.id)}/${action}`, { note: drafts.get(e.id) || null });
      drafts.delete(e.id); // saved: a later action must not append it again
      await loadDistrict();
    } catch (err) {
      actionError = err;
    }
    busy = false;
    if (!disposed) render();
  }

  async function load(): Promise<void> {
    if (vault && !vault.unlocked) {
      rememberAfterUnlock('/escalations');
      ctx.navigate('/pin', { replace: true });
      return;
    }
    const got = await fetchOrCached<MyEscalation[]>(ctx.api, db, '/api/field/escalations', CACHE_KEY);
    if (got.signedOut) {
      ctx.navigate('/login', { replace: true });
      return;
    }
    ({ savedAt, offline, error } = got);
    list = got.value ?? [];
    if (recipient) await loadDistrict();
    if (!disposed) render();
  }

  function item(e: MyEscalation): HTMLElement {
    const st = STATUS[e.status] ?? STATUS.open;
    return h(
      'li',
      { class: 'esc-item', 'data-escalation': e.id, 'data-esc-status': e.status },
      h(
        'div',
        { class: 'history-head' },
        h('span', { class: `badge outcome-${OUTCOME_TONE[e.outcome] ?? 'neutral'}` }, outcomeLabel(e.outcome)),
        h('span', { class: `badge outcome-${st.tone}`, 'data-state': e.status }, t(st.key)),
      ),
      h('p', { class: 'hh-address' }, e.address),
      h('p', { class: 'hint' }, `${e.label}${e.operation_name}`),
      h('p', {}, t('esc.raisedAt', { time: when(e.created_at) })),
      e.notes ? h('p', { class: 'note', 'data-esc-notes': 'true' }, t('esc.notes', { notes: e.notes })) : null,
    );
  }

  function districtItem(e: DistrictEscalation): HTMLElement {
    const st = STATUS[e.status] ?? STATUS.open;
    const noteId = `esc-note-${e.id}`;
    const note = h('textarea', { id: noteId, rows: 2, maxlength: 2000 });
    note.value = drafts.get(e.id) ?? '';
    note.addEventListener('input', () => drafts.set(e.id, note.value));
    const ack = h('button', { type: 'button', class: 'secondary', 'data-ack': e.id, disabled: e.status !== 'open' || offline || busy }, t('console.esc.acknowledge'));
    ack.addEventListener('click', () => void act(e, 'acknowledge'));
    const resolve = h('button', { type: 'button', class: 'primary', 'data-resolve': e.id, disabled: offline || busy }, t('console.esc.resolve'));
    resolve.addEventListener('click', () => void act(e, 'resolve'));
    const people = e.people ?? [];
    return h(
      'li',
      { class: 'esc-item', 'data-district-escalation': e.id, 'data-esc-status': e.status },
      h(
        'div',
        { class: 'history-head' },
        h('span', { class: `badge outcome-${OUTCOME_TONE[e.outcome] ?? 'neutral'}` }, `${e.mode === 'drill' ? '【訓練】' : ''}${outcomeLabel(e.outcome)}`),
        h('span', { class: `badge outcome-${st.tone}`, 'data-state': e.status }, t(st.key)),
      ),
      e.address ? h('p', { class: 'hh-address', 'data-esc-address': '' }, e.address) : null,
      ...people.map((p) => h('p', { class: 'esc-person' }, h('strong', {}, p.name),
        p.phone ? h('a', { href: `tel:${p.phone}`, class: 'button secondary tel', 'data-call': p.phone }, t('esc.call', { phone: p.phone })) : null)),
      people.length === 0 ? h('p', { class: 'hint' }, t('console.detail.noPeople')) : null,
      h('p', {}, t('esc.raisedAt', { time: when(e.created_at) })),
      e.notes ? h('p', { class: 'note', 'data-esc-notes': 'true' }, t('esc.notes', { notes: e.notes })) : null,
      h('div', { class: 'field' }, h('label', { for: noteId }, t('console.esc.note')), note),
      h('div', { class: 'actions' }, ack, resolve),
    );
  }

  function districtSection(): HTMLElement | null {
    if (!recipient) return null;
    return h(
      'section',
      { 'aria-labelledby': 'esc-district-title', 'data-district-escalations': '' },
      h('h2', { id: 'esc-district-title' }, t('esc.district.title')),
      h('p', { class: 'hint' }, t('esc.district.lead')),
      actionError ? h('p', { class: 'error', role: 'alert' }, problemText(actionError)) : null,
      district === null
        ? h('p', { role: 'status' }, t('home.loading'))
        : district.length === 0
          ? h('p', {}, t('esc.district.none'))
          : h('ol', { class: 'esc-list' }, ...district.map(districtItem)),
    );
  }

  function render(): void {
    root.replaceChildren(
      h(
        'section',
        { class: 'card escalations', 'aria-labelledby': 'esc-title', 'aria-busy': list === null ? 'true' : null },
        h('h1', { id: 'esc-title', tabindex: '-1' }, t(recipient ? 'esc.titleRecipient' : 'esc.title')),
        ...cachedListNotices({ offline, savedAt, error }, 'esc.offline'),
        districtSection(),
        recipient ? h('h2', {}, t('esc.mine.title')) : null,
        h('p', { class: 'hint' }, t('esc.lead')),
        list === null
          ? h('p', { role: 'status' }, t('home.loading'))
          : list.length === 0
            ? h('p', {}, t('esc.none'))
            : h('ol', { class: 'esc-list' }, ...list.map(item)),
        appLink(ctx, '/', t('op.back'), { class: 'button secondary' }),
      ),
    );
  }

  void load();
  return {
    render,
    dispose() {
      disposed = true;
    },
  } satisfies Page;
};

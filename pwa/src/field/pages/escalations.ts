// The escalations a watcher's visits raised (要連絡 / 緊急 / 要救助) and what coordinators did
// with them: open → acknowledged → resolved, with their note. Cached sealed for offline.
import { cachedListNotices, fetchOrCached } from '../fetch-or-cached';
import { OUTCOME_LABELS, OUTCOME_TONE } from '../model';
import { t, type MessageKey } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { rememberAfterUnlock, vaultFor } from '../../vault/vault';

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

const STATUS: Record<MyEscalation['status'], { key: MessageKey; tone: string }> = {
  open: { key: 'esc.status.open', tone: 'danger' },
  acknowledged: { key: 'esc.status.acknowledged', tone: 'warn' },
  resolved: { key: 'esc.status.resolved', tone: 'good' },
};
const CACHE_KEY = 'escalations:mine';

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
        h('span', { class: `badge outcome-${OUTCOME_TONE[e.outcome] ?? 'neutral'}` }, t(OUTCOME_LABELS[e.outcome] ?? 'op.status.unreached')),
        h('span', { class: `badge outcome-${st.tone}`, 'data-state': e.status }, t(st.key)),
      ),
      h('p', { class: 'hh-address' }, e.address),
      h('p', { class: 'hint' }, `${e.label}${e.operation_name}`),
      h('p', {}, t('esc.raisedAt', { time: when(e.created_at) })),
      e.notes ? h('p', { class: 'note', 'data-esc-notes': 'true' }, t('esc.notes', { notes: e.notes })) : null,
    );
  }

  function render(): void {
    root.replaceChildren(
      h(
        'section',
        { class: 'card escalations', 'aria-labelledby': 'esc-title', 'aria-busy': list === null ? 'true' : null },
        h('h1', { id: 'esc-title', tabindex: '-1' }, t('esc.title')),
        h('p', { class: 'hint' }, t('esc.lead')),
        ...cachedListNotices({ offline, savedAt, error }, 'esc.offline'),
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

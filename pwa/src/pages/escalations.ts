// The escalations a watcher's visits raised (要連絡 / 緊急 / 要救助) and what coordinators did
// with them: open → acknowledged → resolved, with their note. Cached sealed for offline.
import { ApiError, NetworkError } from '../api/errors';
import { OUTCOME_LABELS, OUTCOME_TONE } from '../field/model';
import { ageText } from '../field/sync';
import { t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { h } from '../ui/dom';
import { problemText } from '../ui/problem-text';
import { getSealed, putSealed } from '../vault/store';
import { rememberAfterUnlock, vaultFor } from '../vault/vault';

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
    offline = !navigator.onLine;
    if (!offline) {
      try {
        list = await ctx.api.get<MyEscalation[]>('/api/field/escalations');
        savedAt = Date.now();
        if (db) await putSealed(db, CACHE_KEY, list, savedAt);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          ctx.navigate('/login', { replace: true });
          return;
        }
        offline = err instanceof NetworkError || (err instanceof ApiError && err.status >= 500);
        if (!offline) error = err;
      }
    }
    if (list === null && db) {
      const cached = await getSealed<MyEscalation[]>(db, CACHE_KEY);
      list = cached?.value ?? [];
      savedAt = cached?.saved_at ?? null;
    }
    list ??= [];
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

  function back(): HTMLElement {
    const a = h('a', { href: '/', class: 'button secondary' }, t('op.back'));
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      ctx.navigate('/');
    });
    return a;
  }

  function render(): void {
    const age = savedAt !== null ? ageText(savedAt) : null;
    root.replaceChildren(
      h(
        'section',
        { class: 'card escalations', 'aria-labelledby': 'esc-title', 'aria-busy': list === null ? 'true' : null },
        h('h1', { id: 'esc-title', tabindex: '-1' }, t('esc.title')),
        h('p', { class: 'hint' }, t('esc.lead')),
        offline ? h('div', { class: 'offline', role: 'status', 'data-offline': 'true' }, h('p', {}, t('esc.offline'))) : null,
        offline && age ? h('p', { class: 'age', 'data-age': String(savedAt) }, t(age.key, { n: age.n })) : null,
        error ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(error))) : null,
        list === null
          ? h('p', { role: 'status' }, t('home.loading'))
          : list.length === 0
            ? h('p', {}, t('esc.none'))
            : h('ol', { class: 'esc-list' }, ...list.map(item)),
        back(),
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

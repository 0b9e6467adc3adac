// A watcher's own records for one household: what the server has (GET /api/field/visits) plus
// what is still on this device (the outbox), newest first, each marked sent / unsent.
import { cachedListNotices, fetchOrCached } from '../fetch-or-cached';
import { loadMyHouseholds, outcomeLabel, OUTCOME_TONE, type Household } from '../model';
import type { Shelter } from '../shelters';
import { t } from '../../i18n';
import type { OutboxState } from '../../device-db/db';
import type { Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { getSealed } from '../../vault/store';
import { rememberAfterUnlock, vaultFor } from '../../vault/vault';

/** `GET /api/field/visits` item. */
export interface MyVisit {
  id: string;
  client_id: string;
  operation_id: string;
  operation_name: string;
  mode: string;
  label: string;
  household_id: string;
  outcome: string;
  note: string | null;
  shelter_id: string | null;
  shelter_unknown?: boolean;
  device_time: string;
  server_time: string;
}

export interface HistoryItem {
  client_id: string;
  operation_id: string;
  /** "【訓練】" + name when known (the history spans operations: past rounds of the same household). */
  operation?: string;
  outcome: string;
  note: string | null;
  shelter_id: string | null;
  shelter_unknown?: boolean;
  device_time: string;
  /** sent: stored on the server; unsent: waiting on this device; check: conflict / rejected. */
  sent: 'sent' | 'unsent' | 'check';
}

const WAITING: OutboxState[] = ['pending', 'sending', 'failed'];

/** Server visits and local rows merged by client id (a row just sent may be in both), newest first. */
export function mergeHistory(server: MyVisit[], local: HistoryItem[]): HistoryItem[] {
  const out = new Map<string, HistoryItem>();
  for (const v of server) {
    out.set(v.client_id, { client_id: v.client_id, operation_id: v.operation_id, operation: `${v.label}${v.operation_name}`, outcome: v.outcome, note: v.note, shelter_id: v.shelter_id, shelter_unknown: !!v.shelter_unknown, device_time: v.device_time, sent: 'sent' });
  }
  for (const l of local) if (!out.has(l.client_id)) out.set(l.client_id, l);
  return [...out.values()].sort((a, b) => Date.parse(b.device_time) - Date.parse(a.device_time));
}

function when(iso: string): string {
  return new Date(iso).toLocaleString('ja-JP', { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export const historyPage: PageFactory = (root, ctx, params = {}) => {
  const opId = params.id ?? '';
  const hhId = params.hid ?? '';
  const db = ctx.outbox?.db;
  const vault = db ? vaultFor(db) : null;
  const cacheKey = `history:${hhId}`;
  let household: Household | null = null;
  let opName: string | undefined;
  let items: HistoryItem[] | null = null;
  let savedAt: number | null = null;
  let offline = false;
  let error: unknown = null;
  let shelterNames = new Map<string, string>();
  let disposed = false;

  async function localRows(): Promise<HistoryItem[]> {
    if (!ctx.outbox) return [];
    const rows = await ctx.outbox.listOpened(['pending', 'sending', 'failed', 'conflict', 'dead']);
    return rows.flatMap((r) => {
      const p = r.payload;
      if (p.type !== 'visit' || p.household_id !== hhId) return [];
      return [{
        client_id: r.client_id,
        operation_id: p.operation_id,
        operation: p.operation_id === opId ? opName : undefined,
        outcome: p.outcome,
        note: p.note ?? null,
        shelter_id: p.shelter_id ?? null,
        shelter_unknown: p.shelter_unknown === true,
        device_time: p.device_time,
        sent: WAITING.includes(r.state) ? ('unsent' as const) : ('check' as const),
      }];
    });
  }

  async function load(): Promise<void> {
    if (vault && !vault.unlocked) {
      rememberAfterUnlock(`/op/${encodeURIComponent(opId)}/h/${encodeURIComponent(hhId)}`);
      ctx.navigate('/pin', { replace: true });
      return;
    }
    if (db) {
      const mine = (await loadMyHouseholds(db, opId))?.data;
      household = mine?.households.find((x) => x.id === hhId) ?? null;
      opName = mine ? `${mine.operation.label ?? ''}${mine.operation.name}` : undefined;
      const s = await getSealed<Shelter[]>(db, 'shelters');
      shelterNames = new Map((s?.value ?? []).map((x) => [x.id, x.name]));
    }
    const got = await fetchOrCached<MyVisit[]>(ctx.api, db, `/api/field/visits?household_id=${encodeURIComponent(hhId)}`, cacheKey);
    if (got.signedOut) {
      ctx.navigate('/login', { replace: true });
      return;
    }
    ({ savedAt, offline, error } = got);
    items = mergeHistory(got.value ?? [], await localRows());
    if (!disposed) render();
  }

  function sentBadge(s: HistoryItem['sent']): HTMLElement {
    const key = s === 'sent' ? 'history.sent' : s === 'unsent' ? 'history.unsent' : 'history.needsCheck';
    return h('span', { class: `badge sent-${s}`, 'data-sent': s }, t(key));
  }

  function item(i: HistoryItem): HTMLElement {
    const tone = OUTCOME_TONE[i.outcome] ?? 'neutral';
    const shelter = i.shelter_id ? shelterNames.get(i.shelter_id) : undefined;
    return h(
      'li',
      { class: 'history-item', 'data-history-item': i.client_id },
      h('div', { class: 'history-head' }, h('span', { class: `badge outcome-${tone}`, 'data-outcome': i.outcome }, outcomeLabel(i.outcome)), sentBadge(i.sent)),
      h('p', {}, t('history.deviceTime', { time: when(i.device_time) })),
      i.operation ? h('p', { class: 'hint', 'data-op-name': 'true' }, i.operation) : null,
      shelter ? h('p', {}, t('shelter.at', { name: shelter })) : i.shelter_unknown ? h('p', { 'data-shelter-unknown': 'true' }, t('shelter.atUnknown')) : null,
      i.note ? h('p', { class: 'note', 'data-note': 'true' }, t('history.note', { note: i.note })) : null,
    );
  }

  function render(): void {
    const names = household?.people.map((p) => p.name).filter(Boolean).join('・');
    root.replaceChildren(
      h(
        'section',
        { class: 'card history', 'aria-labelledby': 'history-title', 'aria-busy': items === null ? 'true' : null },
        h('h1', { id: 'history-title', tabindex: '-1' }, t('history.title')),
        household ? h('p', { class: 'hh-name' }, names || household.address) : null,
        household && names ? h('p', { class: 'hh-address' }, household.address) : null,
        h('p', { class: 'hint' }, t('history.lead')),
        ...cachedListNotices({ offline, savedAt, error }, 'history.offline'),
        items === null
          ? h('p', { role: 'status' }, t('home.loading'))
          : items.length === 0
            ? h('p', {}, t('common.noRecords'))
            : h('ol', { class: 'history-list' }, ...items.map(item)),
        appLink(ctx, `/op/${encodeURIComponent(opId)}`, t('history.back'), { class: 'button secondary' }),
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

import { t } from '../../i18n';
import type { OutboxRow } from '../../device-db/db';
import type { OutboxStatus } from '../../outbox/outbox';
import { downloadUnsent, storageEstimate } from '../../outbox/runtime';
import { loadMyHouseholds, type MyHouseholds } from '../model';
import { describeRecord, type RecordView } from '../refused';
import type { Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';

function mb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * What is waiting on this device: send now, export (JSON / CSV); each waiting record and each
 * record the server refused in words (household, what, why) with what the user can do (#17).
 */
export const outboxPage: PageFactory = (root, ctx) => {
  const outbox = ctx.outbox;
  let status: OutboxStatus | null = null;
  let waiting: OutboxRow[] = [];
  let conflicts: OutboxRow[] = [];
  let dead: OutboxRow[] = [];
  let lists = new Map<string, MyHouseholds>();
  /** The record whose discard is being confirmed. */
  let confirming: string | null = null;
  let estimate: Awaited<ReturnType<typeof storageEstimate>> = null;
  let disposed = false;

  async function refresh(): Promise<void> {
    if (!outbox) return;
    [waiting, conflicts, dead, estimate] = await Promise.all([
      outbox.list(['pending', 'sending', 'failed']), outbox.list(['conflict']), outbox.list(['dead']), storageEstimate()]);
    const next = new Map<string, MyHouseholds>();
    for (const opId of new Set([...waiting, ...conflicts, ...dead].filter((r) => r.payload.type === 'visit').map((r) => r.payload.operation_id))) {
      // Sealed: readable only while the PIN has unlocked the device; otherwise the row says so.
      const got = await loadMyHouseholds(outbox.db, opId).catch(() => null);
      if (got) next.set(opId, got.data);
    }
    lists = next;
    if (!disposed) render();
  }

  const off = outbox?.subscribe((s) => {
    status = s;
    refresh().catch(() => undefined); // the database closed under a leaving page
  });

  function recordItem(v: RecordView, refused: boolean): HTMLElement {
    const actions: Array<HTMLElement | null> = [];
    if (refused && outbox) {
      if (confirming === v.clientId) {
        const yes = button(t('refused.discardYes'), 'secondary', () => {
          confirming = null;
          void outbox.discard(v.clientId).then(() => refresh());
        });
        yes.dataset['discardYes'] = v.clientId;
        const no = button(t('refused.discardNo'), 'primary', () => {
          confirming = null;
          render();
        });
        actions.push(h('div', { role: 'alertdialog', class: 'error', 'aria-label': t('refused.discard'), 'data-discard-confirm': v.clientId },
          h('p', {}, t('refused.discardConfirm')), no, yes));
      } else {
        const del = button(t('refused.discard'), 'secondary', () => {
          confirming = v.clientId;
          render();
        });
        del.dataset['discard'] = v.clientId;
        actions.push(del);
      }
    }
    return h(
      'li',
      { 'data-record': v.clientId, 'data-household-id': v.householdId },
      h('strong', { 'data-record-household': '' }, v.household),
      h('p', { 'data-record-what': '' }, v.what),
      v.why ? h('p', { class: 'error', 'data-record-why': '' }, v.why) : null,
      refused && v.callNow ? h('p', { class: 'call-now', role: 'alert' }, t('refused.callNow'), ' ', h('a', { class: 'call', href: 'tel:110' }, t('op.call110'))) : null,
      refused ? h('p', { class: 'hint' }, t('refused.todo')) : null,
      ...actions,
    );
  }

  function rowList(title: string, rows: OutboxRow[], attr: string, refused: boolean): HTMLElement | null {
    if (rows.length === 0) return null;
    return h(
      'section',
      { [attr]: 'true' },
      h('h2', {}, title),
      h('ul', { class: 'outbox-rows' }, ...rows.map((r) => recordItem(describeRecord(r, lists), refused))),
    );
  }

  function button(label: string, cls: string, onClick: () => void): HTMLElement {
    const b = h('button', { type: 'button', class: cls }, label);
    b.addEventListener('click', onClick);
    return b;
  }

  function render(): void {
    root.replaceChildren(
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'outbox-title' },
        h('h1', { id: 'outbox-title', tabindex: '-1' }, t('outbox.title')),
        h('p', { 'data-outbox-summary': 'true' }, t('outbox.waiting', { count: status?.waiting ?? 0 })),
        status?.needsSignIn ? h('div', { class: 'error', role: 'alert' }, h('p', {}, t('outbox.needsSignIn'))) : null,
        outbox ? button(t('outbox.sendNow'), 'primary', () => void outbox.retryNow()) : null,
        outbox ? button(t('outbox.exportJson'), 'secondary', () => void downloadUnsent(outbox, 'json')) : null,
        outbox ? button(t('outbox.exportCsv'), 'secondary', () => void downloadUnsent(outbox, 'csv')) : null,
        rowList(t('outbox.deadList'), dead, 'data-dead', true),
        rowList(t('outbox.conflictList'), conflicts, 'data-conflicts', true),
        rowList(t('refused.waitingList'), waiting, 'data-waiting', false),
        estimate
          ? h(
              'p',
              { class: 'hint', 'data-storage': 'true' },
              t('common.deviceStorage', { used: mb(estimate.usage), quota: mb(estimate.quota) }),
              ' ',
              estimate.persisted ? t('outbox.persisted') : t('outbox.notPersisted'),
            )
          : null,
      ),
    );
  }

  render();
  return {
    render,
    dispose() {
      disposed = true;
      off?.();
    },
  } satisfies Page;
};

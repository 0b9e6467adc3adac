import { t } from '../../i18n';
import type { OutboxRow } from '../../device-db/db';
import type { OutboxStatus } from '../../outbox/outbox';
import { downloadUnsent, storageEstimate } from '../../outbox/runtime';
import { OUTCOME_LABELS } from '../model';
import type { Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';

function mb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** What is waiting on this device: send now, export (JSON / CSV), conflicts and rejected records. */
export const outboxPage: PageFactory = (root, ctx) => {
  const outbox = ctx.outbox;
  let status: OutboxStatus | null = null;
  let conflicts: OutboxRow[] = [];
  let dead: OutboxRow[] = [];
  let estimate: Awaited<ReturnType<typeof storageEstimate>> = null;
  let disposed = false;

  async function refresh(): Promise<void> {
    if (!outbox) return;
    [conflicts, dead, estimate] = await Promise.all([outbox.list(['conflict']), outbox.list(['dead']), storageEstimate()]);
    if (!disposed) render();
  }

  const off = outbox?.subscribe((s) => {
    status = s;
    void refresh();
  });

  function rowList(title: string, rows: OutboxRow[], attr: string): HTMLElement | null {
    if (rows.length === 0) return null;
    return h(
      'section',
      { [attr]: 'true' },
      h('h2', {}, title),
      h(
        'ul',
        { class: 'outbox-rows' },
        ...rows.map((r) =>
          h('li', {}, h('strong', {}, t(OUTCOME_LABELS[r.payload.outcome] ?? 'op.status.unreached')), ` ${r.payload.device_time}`, h('br'), r.last_error ?? ''),
        ),
      ),
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
        rowList(t('outbox.conflictList'), conflicts, 'data-conflicts'),
        rowList(t('outbox.deadList'), dead, 'data-dead'),
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

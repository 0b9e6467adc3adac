import { t } from '../i18n';
import { ensurePush } from '../push/push';
import { defaultPushDeps, pushOffer } from '../push/ui';
import type { Page, PageFactory } from '../router';
import { appLink, h } from '../ui/dom';
import { problemText } from '../ui/problem-text';
import { vocabLabel } from '../vocab';
import { consoleAccess, consoleNav, timeOf } from './common';
import { sizeText, type CentreFigures, type OperationRow } from './list-model';

/** `/console`: the operations a coordinator can open on the live map (running ones first). */
export const consoleListPage: PageFactory = (root, ctx) => {
  let ops: OperationRow[] | null = null;
  let figures = new Map<string, CentreFigures>();
  let error: unknown = null;
  let forbidden = false;
  let disposed = false;
  // Coordinators land here after sign-in (#17): the notification offer is made where they land.
  let offer: HTMLElement | null = null;

  async function load(): Promise<void> {
    try {
      const access = await consoleAccess(ctx);
      if (disposed || access === 'redirected') return;
      if (access === 'signed-out') {
        ctx.navigate('/login', { replace: true });
        return;
      }
      if (access === 'forbidden') {
        forbidden = true;
      } else {
        void ensurePush(defaultPushDeps(ctx)).catch(() => undefined);
        offer ??= pushOffer(defaultPushDeps(ctx));
        ops = await ctx.api.get<OperationRow[]>('/api/operations');
        if (ops.some((op) => op.kind === 'vc')) figures = await centreFigures();
      }
    } catch (err) {
      error = err;
    }
    if (!disposed) render();
  }

  /** Each centre's figures of today (one request for all); none for roles that do not run a VC. */
  async function centreFigures(): Promise<Map<string, CentreFigures>> {
    try {
      const centres = await ctx.api.get<Array<{ operation_id: string; figures: CentreFigures | null }>>('/api/vc/centres/');
      return new Map(centres.flatMap((c) => (c.figures ? [[c.operation_id, c.figures] as const] : [])));
    } catch {
      return new Map(); // a commissioner: the centre's row shows no figures
    }
  }

  function row(op: OperationRow): HTMLElement {
    const kind = vocabLabel('operation_kinds', op.kind);
    const status = op.status === 'active' ? t('ops.status.active') : op.status === 'closed' ? t('ops.status.closed') : t('console.list.draft');
    return h('li', { class: `console-op console-op-${op.status}` },
      op.status === 'draft'
        ? h('span', { class: 'console-op-name' }, `${op.label}${op.name}`)
        : appLink(ctx, `/console/${op.kind === 'vc' ? 'vc' : 'op'}/${op.id}`, `${op.label}${op.name}`, { 'data-op': op.id, class: 'console-op-name' }),
      h('span', op.kind === 'vc' ? { 'data-vc-figures': op.id } : {}, ` ${[kind, status, sizeText(op, figures.get(op.id))].filter(Boolean).join(' · ')}`),
      op.started_at ? h('span', {}, ` · ${t('console.list.started', { time: timeOf(op.started_at, true) })}`) : null);
  }

  function render(): void {
    const body: Node[] = [];
    if (forbidden) body.push(h('p', { role: 'alert', class: 'error' }, t('console.forbidden')));
    else if (error) body.push(h('p', { role: 'alert', class: 'error' }, problemText(error)));
    else if (!ops) body.push(h('p', { role: 'status' }, t('home.loading')));
    else if (ops.length === 0) body.push(h('p', {}, t('ops.noneYet')));
    else {
      const order = { active: 0, draft: 1, closed: 2 } as const;
      const sorted = [...ops].sort((a, b) => order[a.status] - order[b.status]);
      body.push(h('ul', { class: 'console-ops', 'data-ops': '' }, ...sorted.map(row)));
    }
    root.replaceChildren(h('div', { class: 'console console-list' },
      h('div', { class: 'console-head' }, h('h1', { tabindex: '-1' }, t('console.list.title')), consoleNav(ctx)),
      h('p', {}, t('console.list.lead')),
      offer,
      ...body));
  }

  const page: Page = { render, dispose: () => void (disposed = true) };
  void load();
  return page;
};

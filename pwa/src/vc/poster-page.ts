import { t } from '../i18n';
import type { Page, PageFactory } from '../router';
import { errorBox, staffGate } from '../staff/shell';
import { appLink, h } from '../ui/dom';
import { DESK_ROLES } from './desk-page';
import { joinLinkState, qrSource, type JoinLink } from './join-link';
import { deskPath } from './model';

/**
 * `/staff/vc/:op/print/poster`: the A4 poster of an open centre's pre-registration page — the QR
 * of its address, the address in words, how to register. A drill centre's poster says 【訓練】
 * in its title and in a banner; a closed centre has no poster (the server gives no link).
 */
export const posterPage: PageFactory = (root, ctx, params = {}) => {
  const op = params['op'] ?? '';
  let state: ReturnType<typeof joinLinkState> | null = null;

  const gate = staffGate(root, ctx, '/staff/vc', 'vc.poster.title', () => void load(), DESK_ROLES);

  async function load(): Promise<void> {
    try {
      state = joinLinkState({ link: await ctx.api.get<JoinLink>(`/api/vc/centres/${encodeURIComponent(op)}/join-link`) });
    } catch (err) {
      state = joinLinkState({ error: err });
    }
    render();
  }

  function poster(link: JoinLink): HTMLElement {
    const printBtn = h('button', { type: 'button', class: 'primary no-print', 'data-action': 'print' }, t('staff.print.print'));
    printBtn.addEventListener('click', () => window.print());
    return h('div', { class: 'print-sheet vc-poster', 'data-poster': 'true' },
      h('div', { class: 'actions no-print' }, printBtn, appLink(ctx, deskPath(op, 'reception'), t('vc.poster.back'), { class: 'button secondary' })),
      link.label ? h('p', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('vc.poster.drill')) : null,
      h('h2', { class: 'vc-poster-title', 'data-poster-title': 'true' }, `${link.label}${t('vc.poster.heading')}`),
      h('p', { class: 'vc-poster-centre' }, `${link.label}${link.centre}`),
      h('img', { class: 'vc-poster-qr', src: qrSource(link), alt: t('vc.link.qrAlt'), 'data-poster-qr': 'true', width: 320, height: 320 }),
      h('ol', { class: 'vc-poster-steps' }, h('li', {}, t('vc.poster.step1')), h('li', {}, t('vc.poster.step2')), h('li', {}, t('vc.poster.step3'))),
      h('p', { class: 'vc-poster-url' }, t('vc.poster.urlLabel'), h('br', {}), h('span', { 'data-poster-url': 'true' }, link.url)));
  }

  function render(): void {
    gate.render(() => {
      if (state === null) return [h('p', { role: 'status' }, t('home.loading'))];
      if (state.kind === 'closed') return [h('p', { role: 'alert', 'data-join-link': 'closed' }, t('vc.link.closed'))];
      if (state.kind === 'error') return [errorBox(state.error)];
      return [poster(state.link)];
    });
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};

import { onLangChange, t } from '../i18n';
import type { Outbox, OutboxStatus } from '../outbox/outbox';
import { h } from './dom';

/**
 * "未送信 N件" in the app bar, always visible; plus "要確認 M件" for conflicts and
 * rejected records, and a sign-in prompt when the queue stopped on a 401. Tapping it
 * opens the outbox page (send now, export).
 */
export function mountOutboxStatus(container: HTMLElement, outbox: Outbox, navigate: (path: string) => void): () => void {
  let status: OutboxStatus | null = null;
  const count = h('a', { href: '/outbox', class: 'outbox-count', 'data-outbox-count': 'true', 'aria-live': 'polite' });
  const check = h('a', { href: '/outbox', class: 'outbox-check', 'data-outbox-check': 'true', hidden: true });
  const signIn = h('a', { href: '/login', class: 'outbox-signin', 'data-outbox-signin': 'true', hidden: true });
  for (const a of [count, check, signIn]) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      navigate(a.getAttribute('href')!);
    });
  }

  function update(): void {
    const s = status;
    count.textContent = t('outbox.waiting', { count: s?.waiting ?? 0 });
    count.dataset.count = String(s?.waiting ?? 0);
    const bad = (s?.conflict ?? 0) + (s?.dead ?? 0);
    check.hidden = bad === 0;
    check.textContent = t('outbox.needsCheck', { count: bad });
    signIn.hidden = !s?.needsSignIn;
    signIn.textContent = t('outbox.signIn');
  }

  const offStatus = outbox.subscribe((s) => {
    status = s;
    update();
  });
  const offLang = onLangChange(update);
  update();
  container.append(h('div', { class: 'outbox-bar' }, count, check, signIn));
  return () => {
    offStatus();
    offLang();
  };
}

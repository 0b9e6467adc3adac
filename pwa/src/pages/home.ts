import type { User } from '../api/types';
import type { LastKnownUser } from '../auth/last-known';
import { loadSession, signOut } from '../auth/session';
import { t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { h } from '../ui/dom';
import { problemText } from '../ui/problem-text';

type State =
  | { kind: 'loading' }
  | { kind: 'online'; user: User }
  | { kind: 'offline'; user: LastKnownUser }
  | { kind: 'error'; error: unknown };

export const homePage: PageFactory = (root, ctx) => {
  let state: State = { kind: 'loading' };
  let actionError: unknown = null;
  let disposed = false;

  async function load(): Promise<void> {
    try {
      const session = await loadSession({ api: ctx.api });
      if (disposed) return;
      if (session.kind === 'signed-out' || (session.kind === 'offline' && !session.user)) {
        // Offline with nobody remembered: the login page explains a connection is needed.
        ctx.navigate('/login', { replace: true });
        return;
      }
      state = session.kind === 'signed-in' ? { kind: 'online', user: session.user } : { kind: 'offline', user: session.user! };
    } catch (err) {
      if (disposed) return;
      state = { kind: 'error', error: err };
    }
    render();
  }

  async function onSignOut(): Promise<void> {
    try {
      await signOut({ api: ctx.api });
      ctx.navigate('/login', { replace: true });
    } catch (err) {
      actionError = err;
      render();
    }
  }

  // Coming back online: refresh from the server so stale offline data goes away.
  const onOnline = () => void load();
  const onOffline = () => {
    if (state.kind === 'online') {
      state = { kind: 'offline', user: { display_name: state.user.display_name, role: state.user.role, tenant_name: state.user.tenant.name } };
      render();
    }
  };
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);

  function row(labelKey: MessageKey, value: string, name: string): HTMLElement[] {
    return [h('dt', {}, t(labelKey)), h('dd', { 'data-field': name }, value)];
  }

  function body(): (HTMLElement | null)[] {
    switch (state.kind) {
      case 'loading':
        return [h('p', { role: 'status' }, t('home.loading'))];
      case 'error':
        return [
          h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(state.error))),
          retryButton(),
        ];
      case 'online': {
        const u = state.user;
        return [
          h(
            'dl',
            { class: 'facts' },
            ...row('home.displayName', u.display_name, 'display_name'),
            ...row('home.login', u.login, 'login'),
            ...row('home.role', t(`role.${u.role}`), 'role'),
            ...row('home.tenant', u.tenant.name, 'tenant'),
            ...row('home.municipality', u.tenant.municipality_code, 'municipality_code'),
          ),
          signOutButton(),
        ];
      }
      case 'offline': {
        const u = state.user;
        return [
          h(
            'div',
            { class: 'offline', role: 'status', 'data-offline': 'true' },
            h('strong', {}, t('home.offline')),
            h('p', {}, t('home.offlineHint')),
          ),
          h(
            'dl',
            { class: 'facts' },
            ...row('home.displayName', u.display_name, 'display_name'),
            ...row('home.role', t(`role.${u.role}`), 'role'),
            ...row('home.tenant', u.tenant_name, 'tenant'),
          ),
          retryButton(),
          signOutButton(),
        ];
      }
    }
  }

  function retryButton(): HTMLElement {
    const b = h('button', { type: 'button', class: 'secondary' }, t('home.retry'));
    b.addEventListener('click', () => {
      state = { kind: 'loading' };
      render();
      void load();
    });
    return b;
  }

  function signOutButton(): HTMLElement {
    const b = h('button', { type: 'button', class: 'primary' }, t('home.signOut'));
    b.addEventListener('click', () => void onSignOut());
    return b;
  }

  function render(): void {
    const focusedHeading = document.activeElement?.id === 'home-title';
    root.replaceChildren(
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'home-title', 'aria-busy': state.kind === 'loading' ? 'true' : null },
        h('h1', { id: 'home-title', tabindex: '-1' }, t('home.title')),
        actionError ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(actionError))) : null,
        ...body(),
      ),
    );
    if (focusedHeading) root.querySelector<HTMLElement>('#home-title')?.focus();
  }

  void load();

  return {
    render,
    dispose() {
      disposed = true;
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
    },
  } satisfies Page;
};

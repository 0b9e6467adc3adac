import type { User } from '../api/types';
import type { LastKnownUser } from '../auth/last-known';
import { loadSession, signOut } from '../auth/session';
import { isDrill, KIND_LABELS, loadActiveOps, saveActiveOps, type Operation } from '../field/model';
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
  let ops: Operation[] | null = null;
  let opsFromCache = false;

  /** Running operations: from the server when signed in, else the last list this device saw. */
  async function loadOps(online: boolean): Promise<void> {
    const db = ctx.outbox?.db;
    try {
      if (online) {
        const list = await ctx.api.get<Operation[]>('/api/operations?status=active');
        ops = Array.isArray(list) ? list : [];
        opsFromCache = false;
        if (db) await saveActiveOps(db, ops);
      } else if (db) {
        ops = await loadActiveOps(db);
        opsFromCache = ops !== null;
      }
    } catch {
      ops = db ? await loadActiveOps(db).catch(() => null) : null;
      opsFromCache = ops !== null;
    }
    if (!disposed) render();
  }

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
      if (session.kind === 'signed-in') void ctx.outbox?.resume().catch(() => undefined);
      void loadOps(session.kind === 'signed-in');
    } catch (err) {
      if (disposed) return;
      state = { kind: 'error', error: err };
    }
    render();
  }

  async function onSignOut(): Promise<void> {
    try {
      await signOut({ api: ctx.api });
      // Cached households hold personal data: they go with the session. The outbox stays
      // (unsent records must never be lost; they carry ids and outcomes, no names).
      await ctx.outbox?.db.cache.clear().catch(() => undefined);
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
          opsSection(),
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
          opsSection(),
          retryButton(),
          signOutButton(),
        ];
      }
    }
  }

  function opsSection(): HTMLElement | null {
    if (ops === null) return null;
    const items = ops.map((op) => {
      const a = h(
        'a',
        { href: `/op/${encodeURIComponent(op.id)}`, class: `op-link${isDrill(op) ? ' drill' : ''}`, 'data-op': op.id },
        h('span', { class: 'op-name' }, `${isDrill(op) ? (op.label || '【訓練】') : ''}${op.name}`),
        h('span', { class: 'op-kind' }, t(KIND_LABELS[op.kind] ?? 'ops.title')),
      );
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        ctx.navigate(`/op/${encodeURIComponent(op.id)}`);
      });
      return h('li', {}, a);
    });
    return h(
      'section',
      { class: 'ops', 'aria-labelledby': 'ops-title', 'data-ops': 'true' },
      h('h2', { id: 'ops-title' }, t('ops.title')),
      opsFromCache ? h('p', { class: 'hint' }, t('ops.cached')) : null,
      items.length ? h('ul', { class: 'op-list' }, ...items) : h('p', {}, t('ops.none')),
    );
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

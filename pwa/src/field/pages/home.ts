import type { User } from '../../api/types';
import type { LastKnownUser } from '../../auth/last-known';
import { loadSession, mustChangePassword, PASSWORD_CHANGE_PATH, signOut } from '../../auth/session';
import { clearPrivateTileCaches } from '../../map/offline';
import { isDrill, kindLabel, loadActiveOpsWithAge, saveActiveOps, type Operation } from '../model';
import { ageText, pullChanges } from '../sync';
import { downloadUnsent } from '../../outbox/runtime';
import { passwordSignInRequired, rememberAfterUnlock, takePinReset, vaultFor } from '../../vault/vault';
import { t, type MessageKey } from '../../i18n';
import { ensurePush } from '../../push/push';
import { defaultPushDeps, pushOffer } from '../../push/ui';
import type { Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { problemText } from '../../ui/problem-text';

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
  let opsSavedAt: number | null = null;
  /** Set while the sign-out warning about unsent records is on screen. */
  let unsentWarning: number | null = null;
  const vault = ctx.outbox ? vaultFor(ctx.outbox.db) : null;
  /** The one-time "get notifications?" explanation, made once signed in (never on first paint). */
  let offer: HTMLElement | null = null;

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
        await fromCache(db);
      }
    } catch {
      if (db) await fromCache(db).catch(() => undefined);
      else ops = null;
    }
    if (!disposed) render();
  }

  async function fromCache(db: NonNullable<typeof ctx.outbox>['db']): Promise<void> {
    const cached = await loadActiveOpsWithAge(db);
    ops = cached?.ops ?? null;
    opsSavedAt = cached?.savedAt ?? null;
    opsFromCache = cached !== null;
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
      if (session.kind === 'signed-in' && mustChangePassword(session.user)) {
        // An admin reset the password: the server answers nothing else until a new one is chosen.
        ctx.navigate(PASSWORD_CHANGE_PATH, { replace: true });
        return;
      }
      if (vault && passwordSignInRequired()) {
        // Wiped for wrong PINs while the session cookie lived on: end it, ask for the password.
        await signOut({ api: ctx.api }).catch(() => undefined);
        if (!disposed) ctx.navigate('/login', { replace: true });
        return;
      }
      if (vault) {
        if (session.kind === 'signed-in') {
          // "Forgot PIN": the password sign-in just succeeded, so now the old data goes.
          if (takePinReset()) {
            await vault.wipeAll();
            void ctx.outbox?.flush().catch(() => undefined); // recount the (now empty) queue
          }
          await vault.touchContact();
        }
        const vs = await vault.state();
        if (disposed) return;
        // Signed in without a PIN yet: set one. A PIN exists but the key is not in memory: ask for it.
        if (vs === 'locked' || (vs === 'none' && session.kind === 'signed-in')) {
          rememberAfterUnlock('/');
          ctx.navigate('/pin', { replace: true });
          return;
        }
      }
      state = session.kind === 'signed-in' ? { kind: 'online', user: session.user } : { kind: 'offline', user: session.user! };
      if (session.kind === 'signed-in') {
        void ctx.outbox?.resume().catch(() => undefined);
        // Keep this device's subscription registered (one row per device, under this user).
        void ensurePush(defaultPushDeps(ctx)).catch(() => undefined);
        offer ??= pushOffer(defaultPushDeps(ctx));
      }
      // A disaster-VC volunteer takes part in no operation and keeps no field lists: asking for
      // them only earned two 403s (#17). Their home says what to do instead.
      const volunteer = state.user.role === 'vc_volunteer';
      if (volunteer) {
        ops = [];
        render();
        return;
      }
      if (session.kind === 'signed-in' && ctx.outbox && vault?.unlocked) {
        // Start-up refresh of the cached lists (statuses, new assignments) via the sync cursor.
        void pullChanges(ctx.api, ctx.outbox.db).catch(() => undefined);
      }
      void loadOps(session.kind === 'signed-in');
    } catch (err) {
      if (disposed) return;
      state = { kind: 'error', error: err };
    }
    render();
  }

  /** Everything in the outbox that the server has not stored (waiting, conflicts, rejected). */
  async function unsentCount(): Promise<number> {
    return ctx.outbox ? ctx.outbox.db.outbox.count() : 0;
  }

  async function onSignOut(confirmed = false): Promise<void> {
    try {
      if (ctx.outbox && !confirmed) {
        // An unlocked app sends first; what is still unsent is shown before anything goes.
        if (navigator.onLine) await ctx.outbox.retryNow().catch(() => undefined);
        const n = await unsentCount();
        if (n > 0) {
          unsentWarning = n;
          render();
          root.querySelector<HTMLElement>('[data-signout-warning]')?.focus();
          return;
        }
      }
      await signOut({ api: ctx.api });
      // Cached personal data and the key go with the session. Unsent records stay, sealed,
      // with the wrapped key: the next sign-in with the same PIN sends them (docs/decisions/0008).
      if (vault) await vault.signOutWipe().catch(() => undefined);
      else {
        await ctx.outbox?.db.cache.clear().catch(() => undefined);
        await clearPrivateTileCaches();
      }
      ctx.navigate('/login', { replace: true });
    } catch (err) {
      actionError = err;
      render();
    }
  }

  function signOutWarning(): HTMLElement | null {
    if (unsentWarning === null) return null;
    // The safe choice (send first) is the primary button; signing out anyway is the secondary one.
    const send = h('button', { type: 'button', class: 'primary', 'data-signout-send': 'true' }, t('outbox.sendNow'));
    send.addEventListener('click', () => void onSignOut());
    const json = h('button', { type: 'button', class: 'secondary' }, t('outbox.exportJson'));
    json.addEventListener('click', () => void (ctx.outbox && downloadUnsent(ctx.outbox, 'json')));
    const confirm = h('button', { type: 'button', class: 'secondary', 'data-signout-confirm': 'true' }, t('signOut.confirm'));
    confirm.addEventListener('click', () => void onSignOut(true));
    const cancel = h('button', { type: 'button', class: 'secondary' }, t('signOut.cancel'));
    cancel.addEventListener('click', () => {
      unsentWarning = null;
      render();
    });
    return h(
      'div',
      { class: 'error', role: 'alertdialog', 'aria-labelledby': 'signout-title', 'data-signout-warning': 'true', tabindex: '-1' },
      h('h2', { id: 'signout-title' }, t('signOut.unsentTitle')),
      h('p', {}, t('signOut.unsent', { count: unsentWarning })),
      send,
      json,
      cancel,
      confirm,
    );
  }

  function volunteerSection(role: string): HTMLElement | null {
    if (role !== 'vc_volunteer') return null;
    return h('section', { class: 'ops', 'aria-labelledby': 'vc-title', 'data-volunteer-home': '' },
      h('h2', { id: 'vc-title' }, t('home.volunteer.title')),
      h('p', {}, t('home.volunteer.lead')),
      h('ol', {}, h('li', {}, t('home.volunteer.step1')), h('li', {}, t('home.volunteer.step2')), h('li', {}, t('home.volunteer.step3'))));
  }

  function escalationsLink(): HTMLElement | null {
    if (!ctx.outbox || isVolunteer()) return null;
    return appLink(ctx, '/escalations', t('home.escalations'), { class: 'button secondary', 'data-escalations-link': 'true' });
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
        // The work first (operations, then the screens of the user's role); who is signed in below.
        return [
          volunteerSection(u.role),
          opsSection(),
          offer,
          ['admin', 'staff', 'coordinator', 'commissioner'].includes(u.role)
            ? appLink(ctx, '/console', t('console.list.title'), { class: 'button secondary', 'data-console-link': 'true' })
            : null,
          ['admin', 'staff', 'coordinator'].includes(u.role)
            ? h('a', { href: '/staff', class: 'button secondary', 'data-staff-link': 'true' }, t('staff.home.title'))
            : null,
          h(
            'dl',
            { class: 'facts' },
            ...row('common.name', u.display_name, 'display_name'),
            ...row('login.id', u.login, 'login'),
            ...row('common.role', t(`role.${u.role}`), 'role'),
            ...row('home.tenant', u.tenant.name, 'tenant'),
            ...row('home.municipality', u.tenant.municipality_code, 'municipality_code'),
          ),
          ['admin', 'staff', 'coordinator', 'vc_desk'].includes(u.role)
            ? appLink(ctx, '/staff/vc', t('vc.title'), { class: 'button secondary', 'data-vc-link': 'true' })
            : null,
          u.role === 'vc_volunteer' ? appLink(ctx, '/vc/me', t('vc.me.title'), { class: 'button primary', 'data-vc-me': 'true' }) : null,
          escalationsLink(),
          appLink(ctx, '/account', t('account.title'), { class: 'button secondary', 'data-account-link': 'true' }),
          signOutWarning(),
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
          volunteerSection(u.role),
          opsSection(),
          h(
            'dl',
            { class: 'facts' },
            ...row('common.name', u.display_name, 'display_name'),
            ...row('common.role', t(`role.${u.role}`), 'role'),
            ...row('home.tenant', u.tenant_name, 'tenant'),
          ),
          escalationsLink(),
          retryButton(),
          signOutWarning(),
          signOutButton(),
        ];
      }
    }
  }

  function isVolunteer(): boolean {
    return (state.kind === 'online' || state.kind === 'offline') && state.user.role === 'vc_volunteer';
  }

  function opsSection(): HTMLElement | null {
    if (ops === null || isVolunteer()) return null;
    const items = ops.map((op) => {
      const a = h(
        'a',
        { href: `/op/${encodeURIComponent(op.id)}`, class: `op-link${isDrill(op) ? ' drill' : ''}`, 'data-op': op.id },
        h('span', { class: 'op-name' }, `${isDrill(op) ? (op.label || '【訓練】') : ''}${op.name}`),
        h('span', { class: 'op-kind' }, kindLabel(op.kind)),
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
      opsFromCache
        ? h('p', { class: 'hint', 'data-ops-age': 'true' },
            opsSavedAt !== null
              ? t('field.ops.cachedAge', { age: t(ageText(opsSavedAt).key, { n: ageText(opsSavedAt).n }) })
              : t('ops.cached'))
        : null,
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

  function signOutButton(): HTMLElement | null {
    if (unsentWarning !== null) return null; // the warning has its own buttons
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

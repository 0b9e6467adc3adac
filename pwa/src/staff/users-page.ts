import { t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { appLink, h } from '../ui/dom';
import { confirmDialog } from './dialog';
import { formatTime } from './operations-page';
import { errorBox, staffGate } from './shell';
import { accountActions, actionPath, statusKey, visibleAccounts, withAccount, type Account, type AccountAction, type PasswordReset } from './users-model';

const ACTION_LABEL: Record<AccountAction, MessageKey> = {
  'password-reset': 'staff.users.reset',
  disable: 'staff.users.disable',
  enable: 'staff.users.enable',
  'logout-everywhere': 'staff.users.everywhere',
};

const CONFIRM: Record<AccountAction, { title: MessageKey; body: MessageKey; ok: MessageKey }> = {
  'password-reset': { title: 'staff.users.reset.title', body: 'staff.users.reset.body', ok: 'staff.users.reset.ok' },
  disable: { title: 'staff.users.disable.title', body: 'staff.users.disable.body', ok: 'staff.users.disable' },
  enable: { title: 'staff.users.enable.title', body: 'staff.users.enable.body', ok: 'staff.users.enable' },
  'logout-everywhere': { title: 'staff.users.everywhere.title', body: 'staff.users.everywhere.body', ok: 'staff.users.everywhere.ok' },
};

const DONE: Record<Exclude<AccountAction, 'password-reset'>, MessageKey> = {
  disable: 'staff.users.disable.done',
  enable: 'staff.users.enable.done',
  'logout-everywhere': 'staff.users.everywhere.done',
};

/** `/staff/users`: the tenant's users for admins — reset a password, disable or enable, sign out everywhere. */
export const usersPage: PageFactory = (root, ctx) => {
  let meId = '';
  let isAdmin = false;
  let accounts: Account[] = [];
  let loaded = false;
  let query = '';
  let error: unknown = null;
  let notice = '';
  // Shown once, until the admin closes it or leaves the page.
  let issued: { account: Account; password: string } | null = null;

  const gate = staffGate(root, ctx, '/staff/users', 'staff.users.title', (user) => {
    meId = user.id;
    isAdmin = user.role === 'admin';
    if (isAdmin) void load();
  });

  async function load(): Promise<void> {
    try {
      accounts = await ctx.api.get<Account[]>('/api/users');
      error = null;
    } catch (err) {
      error = err;
    }
    loaded = true;
    render();
  }

  async function act(account: Account, action: AccountAction): Promise<void> {
    const c = CONFIRM[action];
    const ok = await confirmDialog({
      title: t(c.title, { name: account.display_name }),
      body: [t(c.body, { name: account.display_name, login: account.login })],
      confirmLabel: t(c.ok),
      danger: action !== 'enable',
    });
    if (ok === null) return;
    error = null;
    notice = '';
    try {
      if (action === 'password-reset') {
        const reset = await ctx.api.post<PasswordReset>(actionPath(account, action));
        accounts = withAccount(accounts, reset.user);
        issued = { account: reset.user, password: reset.temporary_password };
      } else {
        const updated = await ctx.api.post<Account>(actionPath(account, action));
        accounts = withAccount(accounts, updated);
        notice = t(DONE[action], { name: updated.display_name });
      }
    } catch (err) {
      error = err;
    }
    render();
    root.querySelector<HTMLElement>(issued ? '[data-temporary]' : notice ? '[data-notice]' : '[role=alert]')?.focus();
  }

  function temporaryPanel(): HTMLElement | null {
    if (!issued) return null;
    const close = h('button', { type: 'button', class: 'primary' }, t('staff.users.temporary.close'));
    close.addEventListener('click', () => {
      issued = null;
      render();
      root.querySelector<HTMLElement>('#users-search')?.focus();
    });
    return h('section', { class: 'temporary', role: 'region', 'aria-labelledby': 'temporary-title', tabindex: '-1', 'data-temporary': 'true' },
      h('h2', { id: 'temporary-title' }, t('staff.users.temporary.title', { name: issued.account.display_name })),
      h('p', { class: 'temporary-password', lang: 'en', 'data-temporary-password': 'true' }, issued.password),
      h('p', {}, t('staff.users.temporary.lead', { login: issued.account.login })),
      close);
  }

  function table(): HTMLElement {
    const shown = visibleAccounts(accounts, query);
    if (shown.length === 0) return h('p', {}, t('staff.users.none'));
    return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('staff.users.title') },
      h('table', { class: 'staff-table', 'data-users-table': 'true' },
        h('caption', {}, t('staff.users.caption', { count: shown.length })),
        h('thead', {}, h('tr', {}, ...(['login.id', 'common.name', 'common.role', 'common.status', 'staff.users.colLastLogin', 'staff.colActions'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, ...shown.map((a) => {
          const buttons = accountActions(a, meId).map((action) => {
            const b = h('button', { type: 'button', class: 'secondary', 'data-action': action,
              'aria-label': t('staff.users.actionFor', { action: t(ACTION_LABEL[action]), name: a.display_name }) }, t(ACTION_LABEL[action]));
            b.addEventListener('click', () => void act(a, action));
            return b;
          });
          return h('tr', { 'data-login': a.login, 'data-active': String(a.is_active) },
            h('th', { scope: 'row' }, a.login),
            h('td', {}, a.display_name),
            h('td', {}, t(`role.${a.role}` as MessageKey)),
            h('td', { 'data-status': 'true' }, t(statusKey(a))),
            h('td', {}, a.last_login_at ? formatTime(a.last_login_at) : t('staff.users.never')),
            h('td', {}, a.id === meId ? appLink(ctx, '/account', t('staff.users.yours')) : h('div', { class: 'row-actions' }, ...buttons)));
        }))));
  }

  function search(): HTMLElement {
    const input = h('input', { type: 'search', id: 'users-search', value: query, autocomplete: 'off' });
    input.addEventListener('input', () => {
      query = input.value;
      const wrap = root.querySelector('[data-users-list]');
      if (wrap) wrap.replaceChildren(table());
    });
    return h('div', { class: 'field' }, h('label', { for: 'users-search' }, t('staff.users.search')), input);
  }

  function render(): void {
    gate.render(() => {
      if (!isAdmin) return [h('p', { class: 'error', role: 'alert' }, t('staff.users.adminsOnly'))];
      return [
        h('p', {}, t('staff.users.lead')),
        temporaryPanel(),
        notice ? h('p', { role: 'status', tabindex: '-1', 'data-notice': 'true' }, notice) : null,
        error ? errorBox(error) : null,
        !loaded ? h('p', { role: 'status' }, t('home.loading')) : null,
        loaded ? search() : null,
        loaded ? h('div', { 'data-users-list': 'true' }, table()) : null,
      ];
    });
  }

  render();
  return {
    render,
    dispose() {
      issued = null;
      gate.dispose();
    },
  } satisfies Page;
};

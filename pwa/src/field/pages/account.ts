import { MIN_PASSWORD_LENGTH, passwordFormIssues, SERVER_FIELD, type PasswordField, type PasswordForm } from '../../account/model';
import type { User } from '../../api/types';
import { changePassword, loadSession, mustChangePassword, PASSWORD_CHANGE_PATH, signOut, signOutEverywhere } from '../../auth/session';
import { t, type MessageKey } from '../../i18n';
import { clearPrivateTileCaches } from '../../map/offline';
import { defaultPushDeps, pushSettings } from '../../push/ui';
import type { AppContext, Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { fieldProblemTexts, problemText } from '../../ui/problem-text';
import { vaultFor } from '../../vault/vault';

/**
 * What a sign-out leaves behind on this device: cached personal data and the key go; unsent
 * records stay sealed for the next sign-in with the same PIN (docs/decisions/0008).
 */
export async function forgetOnThisDevice(ctx: AppContext): Promise<void> {
  if (ctx.outbox) await vaultFor(ctx.outbox.db).signOutWipe().catch(() => undefined);
  else await clearPrivateTileCaches();
}

/** The signed-in user, or null after sending the visitor elsewhere (sign-in; the forced change). */
async function signedInUser(ctx: AppContext, allowPendingChange: boolean): Promise<User | null | 'offline'> {
  const session = await loadSession({ api: ctx.api });
  if (session.kind === 'signed-out') {
    ctx.navigate('/login', { replace: true });
    return null;
  }
  if (session.kind === 'offline') return 'offline';
  if (!allowPendingChange && mustChangePassword(session.user)) {
    ctx.navigate(PASSWORD_CHANGE_PATH, { replace: true });
    return null;
  }
  return session.user;
}

type Loaded = { kind: 'loading' } | { kind: 'offline' } | { kind: 'ready'; user: User } | { kind: 'error'; error: unknown };

/** `/account`: who I am, change my password, sign out on every device. */
export const accountPage: PageFactory = (root, ctx) => {
  let state: Loaded = { kind: 'loading' };
  let confirming = false;
  let busy = false;
  let error: unknown = null;
  let disposed = false;
  let notifications: HTMLElement | null = null;

  async function load(): Promise<void> {
    try {
      const user = await signedInUser(ctx, false);
      if (disposed || user === null) return;
      state = user === 'offline' ? { kind: 'offline' } : { kind: 'ready', user };
    } catch (err) {
      state = { kind: 'error', error: err };
    }
    if (!disposed) render();
  }

  async function everywhere(): Promise<void> {
    if (busy) return;
    busy = true;
    error = null;
    render();
    try {
      // Send what is queued first, while this session still works.
      if (ctx.outbox && navigator.onLine) await ctx.outbox.retryNow().catch(() => undefined);
      await signOutEverywhere({ api: ctx.api });
      await forgetOnThisDevice(ctx);
      busy = false;
      ctx.navigate('/login', { replace: true });
      return;
    } catch (err) {
      error = err;
    }
    busy = false;
    render();
  }

  function everywhereSection(): HTMLElement {
    const parts: (HTMLElement | null)[] = [
      h('h2', { id: 'everywhere-title' }, t('account.everywhere.title')),
      h('p', {}, t('account.everywhere.lead')),
    ];
    if (!confirming) {
      const start = h('button', { type: 'button', class: 'secondary', 'data-action': 'everywhere' }, t('account.everywhere.button'));
      start.addEventListener('click', () => {
        confirming = true;
        render();
        root.querySelector<HTMLElement>('[data-everywhere-confirm]')?.focus();
      });
      parts.push(start);
    } else {
      const yes = h('button', { type: 'button', class: 'primary', disabled: busy, 'data-action': 'everywhere-confirm' },
        busy ? t('account.everywhere.busy') : t('account.everywhere.button'));
      yes.addEventListener('click', () => void everywhere());
      const no = h('button', { type: 'button', class: 'secondary', disabled: busy }, t('common.cancel'));
      no.addEventListener('click', () => {
        confirming = false;
        render();
      });
      parts.push(
        h('div', { class: 'error', role: 'alertdialog', 'aria-labelledby': 'everywhere-q', tabindex: '-1', 'data-everywhere-confirm': 'true' },
          h('p', { id: 'everywhere-q' }, t('account.everywhere.question')), yes, no),
      );
    }
    return h('section', { class: 'card', 'aria-labelledby': 'everywhere-title' }, ...parts);
  }

  function body(): (HTMLElement | null)[] {
    switch (state.kind) {
      case 'loading':
        return [h('p', { role: 'status' }, t('home.loading'))];
      case 'offline':
        return [h('p', { class: 'offline', role: 'status' }, t('account.offline'))];
      case 'error':
        return [h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(state.error)))];
      case 'ready': {
        const u = state.user;
        return [
          h('dl', { class: 'facts' },
            h('dt', {}, t('common.name')), h('dd', { 'data-field': 'display_name' }, u.display_name),
            h('dt', {}, t('login.id')), h('dd', { 'data-field': 'login' }, u.login),
            h('dt', {}, t('common.role')), h('dd', { 'data-field': 'role' }, t(`role.${u.role}`))),
          appLink(ctx, PASSWORD_CHANGE_PATH, t('account.password.change'), { class: 'button secondary', 'data-action': 'password' }),
          error ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(error))) : null,
          (notifications ??= pushSettings(defaultPushDeps(ctx))),
          everywhereSection(),
        ];
      }
    }
  }

  function render(): void {
    const focused = document.activeElement?.id === 'account-title';
    root.replaceChildren(
      h('section', { class: 'card', 'aria-labelledby': 'account-title', 'aria-busy': state.kind === 'loading' ? 'true' : null },
        h('h1', { id: 'account-title', tabindex: '-1' }, t('account.title')),
        ...body(),
        appLink(ctx, '/', t('account.back'), { class: 'button secondary' })),
    );
    if (focused) root.querySelector<HTMLElement>('#account-title')?.focus();
  }

  void load();
  return { render, dispose: () => void (disposed = true) } satisfies Page;
};

const FIELDS: { name: PasswordField; id: string; label: MessageKey; autocomplete: string }[] = [
  { name: 'current', id: 'pw-current', label: 'account.password.current', autocomplete: 'current-password' },
  { name: 'next', id: 'pw-new', label: 'account.password.new', autocomplete: 'new-password' },
  { name: 'confirm', id: 'pw-confirm', label: 'account.password.confirm', autocomplete: 'new-password' },
];

/**
 * `/account/password`: change my password. Also the screen a user whose password an admin reset
 * is sent to (forced): then it says why, and it is the only screen until the change is made.
 */
export const passwordPage: PageFactory = (root, ctx) => {
  const values: PasswordForm = { current: '', next: '', confirm: '' };
  let user: User | null = null;
  let offline = false;
  let failure: unknown = null;
  let issues: { field: PasswordField; text: string }[] = [];
  let serverError: unknown = null;
  let busy = false;
  let done = false;
  let disposed = false;

  const forced = () => mustChangePassword(user);

  async function load(): Promise<void> {
    try {
      const u = await signedInUser(ctx, true);
      if (disposed || u === null) return;
      if (u === 'offline') offline = true;
      else user = u;
    } catch (err) {
      failure = err;
    }
    if (!disposed) render();
  }

  function snapshot(): void {
    for (const f of FIELDS) {
      const input = root.querySelector<HTMLInputElement>(`#${f.id}`);
      if (input) values[f.name] = input.value;
    }
  }

  /** Fields to mark invalid: the form's own checks and the fields the server named. */
  function invalidFields(): Set<PasswordField> {
    const out = new Set<PasswordField>(issues.map((i) => i.field));
    for (const name of fieldProblemTexts(serverError).keys()) {
      const field = SERVER_FIELD[name];
      if (field) out.add(field);
    }
    return out;
  }

  async function submit(): Promise<void> {
    if (busy) return;
    snapshot();
    serverError = null;
    issues = passwordFormIssues(values).map((i) => ({ field: i.field, text: t(i.key, { min: MIN_PASSWORD_LENGTH }) }));
    if (issues.length > 0) {
      render();
      root.querySelector<HTMLInputElement>(`#${FIELDS.find((f) => f.name === issues[0]!.field)!.id}`)?.focus();
      return;
    }
    const wasForced = forced();
    busy = true;
    render();
    try {
      user = await changePassword({ api: ctx.api }, values.current, values.next);
      values.current = values.next = values.confirm = '';
      busy = false;
      done = true;
      if (wasForced) {
        // Now the app may be used: home asks for the PIN if this device has none yet.
        ctx.navigate('/', { replace: true });
        return;
      }
      render();
      root.querySelector<HTMLElement>('[data-password-changed]')?.focus();
      return;
    } catch (err) {
      serverError = err;
    }
    busy = false;
    render();
    const firstBad = FIELDS.find((f) => invalidFields().has(f.name));
    const target = firstBad ?? FIELDS[1]!;
    root.querySelector<HTMLInputElement>(`#${target.id}`)?.select();
  }

  async function leave(): Promise<void> {
    await signOut({ api: ctx.api }).catch(() => undefined);
    await forgetOnThisDevice(ctx);
    ctx.navigate('/login', { replace: true });
  }

  function form(): HTMLElement {
    const invalid = invalidFields();
    // The server's message states its policy (weak_password) or what went wrong; the form's own
    // checks follow, one line each.
    const lines = [...(serverError ? [problemText(serverError)] : []), ...issues.map((i) => i.text)];
    const el = h(
      'form',
      { novalidate: true, 'aria-busy': busy ? 'true' : null, 'data-password-form': 'true' },
      lines.length ? h('div', { id: 'pw-errors', class: 'error', role: 'alert' }, ...lines.map((line) => h('p', {}, line))) : null,
      ...FIELDS.map((f) =>
        h('div', { class: 'field' },
          h('label', { for: f.id }, t(f.label)),
          h('input', {
            id: f.id, name: f.name, type: 'password', autocomplete: f.autocomplete, required: true,
            autocapitalize: 'none', autocorrect: 'off', spellcheck: 'false',
            minlength: f.name === 'current' ? null : MIN_PASSWORD_LENGTH,
            'aria-invalid': invalid.has(f.name) ? 'true' : null,
            'aria-describedby': [invalid.has(f.name) ? 'pw-errors' : '', f.name === 'next' ? 'pw-policy' : ''].join(' ').trim() || null,
            value: values[f.name],
          }))),
      h('button', { type: 'submit', class: 'primary', disabled: busy }, busy ? t('account.password.busy') : t('account.password.change')),
    );
    el.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void submit();
    });
    return el;
  }

  function body(): (HTMLElement | null)[] {
    if (failure) return [h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(failure)))];
    if (offline) return [h('p', { class: 'offline', role: 'status' }, t('account.offline'))];
    if (!user) return [h('p', { role: 'status' }, t('home.loading'))];
    if (done) {
      return [
        h('p', { role: 'status', tabindex: '-1', 'data-password-changed': 'true' }, t('account.password.done')),
        appLink(ctx, '/account', t('account.title'), { class: 'button secondary' }),
      ];
    }
    const out: (HTMLElement | null)[] = [
      forced() ? h('div', { class: 'offline', role: 'status', 'data-forced': 'true' }, h('p', {}, t('account.password.forcedLead'))) : h('p', {}, t('account.password.lead')),
      h('p', { id: 'pw-policy', class: 'hint' }, t('account.password.policy', { min: MIN_PASSWORD_LENGTH })),
      form(),
    ];
    if (forced()) {
      const out2 = h('button', { type: 'button', class: 'secondary', 'data-action': 'sign-out' }, t('home.signOut'));
      out2.addEventListener('click', () => void leave());
      out.push(out2);
    } else {
      out.push(appLink(ctx, '/account', t('account.back.account'), { class: 'button secondary' }));
    }
    return out;
  }

  function render(): void {
    snapshot();
    const focused = document.activeElement?.id === 'password-title';
    root.replaceChildren(
      h('section', { class: 'card', 'aria-labelledby': 'password-title', 'aria-busy': !user && !failure && !offline ? 'true' : null },
        h('h1', { id: 'password-title', tabindex: '-1' }, forced() ? t('account.password.forcedTitle') : t('account.password.title')),
        ...body()),
    );
    if (focused) root.querySelector<HTMLElement>('#password-title')?.focus();
  }

  void load();
  return {
    render,
    dispose() {
      disposed = true;
      values.current = values.next = values.confirm = '';
    },
  } satisfies Page;
};

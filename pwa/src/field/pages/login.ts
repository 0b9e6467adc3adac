import { takeSignInTarget } from '../../auth/landing';
import { mustChangePassword, PASSWORD_CHANGE_PATH, signIn } from '../../auth/session';
import { t } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';
import { fieldProblemTexts, problemText } from '../../ui/problem-text';

type Field = 'login' | 'password';

export const loginPage: PageFactory = (root, ctx) => {
  // State lives outside the DOM so a language switch can rebuild the page without
  // losing what the user typed or the error they are looking at (re-translated).
  const values: Record<Field, string> = { login: '', password: '' };
  let error: unknown = null;
  let missing: Field[] = [];
  let busy = false;

  function snapshot(): void {
    for (const name of ['login', 'password'] as const) {
      const input = root.querySelector<HTMLInputElement>(`input[name="${name}"]`);
      if (input) values[name] = input.value;
    }
  }

  function errorLines(): string[] {
    const lines: string[] = [];
    if (missing.includes('login')) lines.push(t('login.missingId'));
    if (missing.includes('password')) lines.push(t('login.missingPassword'));
    if (error) {
      lines.push(problemText(error));
      lines.push(...fieldProblemTexts(error).values());
    }
    if (!navigator.onLine && lines.length === 0) lines.push(t('login.offline'));
    return lines;
  }

  function field(name: Field, id: string, label: string, type: string, autocomplete: string): HTMLElement {
    const invalid = missing.includes(name) || fieldProblemTexts(error).has(name);
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      h('input', {
        id,
        name,
        type,
        autocomplete,
        required: true,
        // Login IDs are case- and space-sensitive: stop phones "helping".
        autocapitalize: 'none',
        autocorrect: 'off',
        spellcheck: 'false',
        'aria-invalid': invalid ? 'true' : null,
        'aria-describedby': invalid ? 'login-errors' : null,
        value: values[name],
      }),
    );
  }

  function render(): void {
    snapshot();
    const lines = errorLines();
    const form = h(
      'form',
      { novalidate: true, 'aria-busy': busy ? 'true' : null },
      field('login', 'login-id', t('login.id'), 'text', 'username'),
      field('password', 'login-password', t('login.password'), 'password', 'current-password'),
      h('button', { type: 'submit', class: 'primary', disabled: busy }, busy ? t('login.submitting') : t('login.signIn')),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void submit();
    });

    root.replaceChildren(
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'login-title' },
        h('h1', { id: 'login-title', tabindex: '-1' }, t('login.signIn')),
        h('p', {}, t('login.lead')),
        // role=alert announces the message as soon as it is inserted.
        lines.length > 0
          ? h('div', { id: 'login-errors', class: 'error', role: 'alert' }, ...lines.map((line) => h('p', {}, line)))
          : null,
        form,
      ),
    );
  }

  async function submit(): Promise<void> {
    if (busy) return;
    snapshot();
    error = null;
    missing = (['login', 'password'] as const).filter((name) => values[name].trim() === '');
    if (missing.length > 0) {
      render();
      root.querySelector<HTMLInputElement>(`input[name="${missing[0]}"]`)?.focus();
      return;
    }
    busy = true;
    render();
    try {
      const user = await signIn({ api: ctx.api }, values.login.trim(), values.password);
      values.password = '';
      busy = false;
      // An admin reset the password: choosing a new one comes before anything else.
      // Then each role lands where its work is (or on the page it asked for).
      ctx.navigate(mustChangePassword(user) ? PASSWORD_CHANGE_PATH : takeSignInTarget(user.role), { replace: true });
      return;
    } catch (err) {
      error = err;
    }
    busy = false;
    render();
    root.querySelector<HTMLInputElement>('input[name="password"]')?.select();
  }

  const page: Page = {
    render,
    dispose() {
      values.password = '';
    },
  };
  return page;
};

// The PIN screen: set a PIN after the first sign-in (twice), unlock with it afterwards (offline
// too), count wrong tries (the 5th wipes everything), and "forgot PIN" = sign in again.
import { t } from '../../i18n';
import { downloadUnsent } from '../../outbox/runtime';
import type { Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';
import {
  MAX_PIN_FAILURES,
  passwordSignInRequired,
  PIN_PATTERN,
  requestPinReset,
  takeAfterUnlock,
  vaultFor,
  WARN_UNSENT_FROM,
  type Vault,
} from '../../vault/vault';

type Mode = 'loading' | 'setup' | 'unlock' | 'forgot' | 'wiped';

export const pinPage: PageFactory = (root, ctx) => {
  const vault: Vault | null = ctx.outbox ? vaultFor(ctx.outbox.db) : null;
  let mode: Mode = 'loading';
  let failures = 0;
  let unsent = 0;
  // Thunks, not strings: a language switch re-renders them translated.
  let errors: Array<() => string> = [];
  let busy = false;
  let disposed = false;

  async function countUnsent(): Promise<number> {
    return ctx.outbox ? ctx.outbox.db.outbox.count() : 0;
  }

  async function load(): Promise<void> {
    if (!vault) {
      ctx.navigate('/', { replace: true });
      return;
    }
    const state = await vault.state();
    if (disposed) return;
    if (state === 'unlocked') {
      ctx.navigate(takeAfterUnlock(), { replace: true });
      return;
    }
    if (state === 'none' && passwordSignInRequired()) {
      // Wiped for wrong PINs: a new PIN (and a new download) only after the password.
      ctx.navigate('/login', { replace: true });
      return;
    }
    mode = state === 'none' ? 'setup' : 'unlock';
    [failures, unsent] = await Promise.all([vault.failures(), countUnsent()]);
    if (failures > 0) errors = wrongLines();
    if (!disposed) render();
  }

  function wrongLines(): Array<() => string> {
    const left = MAX_PIN_FAILURES - failures;
    const count = unsent;
    const lines = [() => t('pin.wrong', { left })];
    if (failures >= WARN_UNSENT_FROM && count > 0) lines.push(() => t('pin.unsentWillBeLost', { count }));
    return lines;
  }

  function value(name: string): string {
    return root.querySelector<HTMLInputElement>(`input[name="${name}"]`)?.value ?? '';
  }

  async function submitSetup(): Promise<void> {
    const pin = value('pin');
    const again = value('pin2');
    if (!PIN_PATTERN.test(pin)) errors = [() => t('pin.badFormat')];
    else if (pin !== again) errors = [() => t('pin.mismatch')];
    else errors = [];
    if (errors.length) {
      render();
      root.querySelector<HTMLInputElement>('input[name="pin"]')?.focus();
      return;
    }
    busy = true;
    render();
    await vault!.setup(pin);
    busy = false;
    if (!disposed) ctx.navigate(takeAfterUnlock(), { replace: true });
  }

  async function submitUnlock(): Promise<void> {
    const pin = value('pin');
    if (!PIN_PATTERN.test(pin)) {
      // Not a possible PIN: not counted as a wrong try.
      errors = [() => t('pin.badFormat')];
      render();
      root.querySelector<HTMLInputElement>('input[name="pin"]')?.focus();
      return;
    }
    busy = true;
    render();
    unsent = await countUnsent();
    const result = await vault!.unlock(pin);
    busy = false;
    if (disposed) return;
    if (result.ok) {
      ctx.navigate(takeAfterUnlock(), { replace: true });
      return;
    }
    if (result.wiped) {
      mode = 'wiped';
      errors = [];
      // The server session must not outlive the wipe either (best effort: we may be offline).
      await ctx.api.logout().catch(() => undefined);
      const { clearLastKnownUser } = await import('../../auth/last-known');
      clearLastKnownUser();
      // The outbox table was emptied underneath the queue: let the app bar count again.
      void ctx.outbox?.flush().catch(() => undefined);
    } else {
      failures = result.failures;
      errors = wrongLines();
    }
    render();
    root.querySelector<HTMLInputElement>('input[name="pin"]')?.focus();
  }

  function pinInput(name: string, id: string, label: string): HTMLElement {
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      h('input', {
        id,
        name,
        type: 'password',
        inputmode: 'numeric',
        pattern: '[0-9]*',
        autocomplete: 'off',
        maxlength: 6,
        minlength: 4,
        required: true,
        'aria-invalid': errors.length ? 'true' : null,
        'aria-describedby': errors.length ? 'pin-errors' : null,
      }),
    );
  }

  function errorBox(): HTMLElement | null {
    return errors.length
      ? h('div', { id: 'pin-errors', class: 'error', role: 'alert', 'data-pin-error': 'true' }, ...errors.map((l) => h('p', {}, l())))
      : null;
  }

  function form(children: HTMLElement[], submitLabel: string, onSubmit: () => Promise<void>): HTMLElement {
    const f = h(
      'form',
      { novalidate: true, 'aria-busy': busy ? 'true' : null },
      ...children,
      h('button', { type: 'submit', class: 'primary', disabled: busy }, busy ? t('pin.working') : submitLabel),
    );
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!busy) void onSubmit();
    });
    return f;
  }

  function button(label: string, cls: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLElement {
    const b = h('button', { type: 'button', class: cls, ...attrs }, label);
    b.addEventListener('click', onClick);
    return b;
  }

  function body(): { title: string; parts: (HTMLElement | null)[] } {
    switch (mode) {
      case 'loading':
        return { title: t('pin.unlockTitle'), parts: [h('p', { role: 'status' }, t('home.loading'))] };
      case 'setup':
        return {
          title: t('pin.setupTitle'),
          parts: [
            h('p', {}, t('pin.setupLead')),
            errorBox(),
            form([pinInput('pin', 'pin-new', t('pin.new')), pinInput('pin2', 'pin-confirm', t('pin.confirm'))], t('pin.setupSubmit'), submitSetup),
          ],
        };
      case 'unlock':
        return {
          title: t('pin.unlockTitle'),
          parts: [
            h('p', {}, t('pin.unlockLead')),
            errorBox(),
            form([pinInput('pin', 'pin-unlock', t('pin.pin'))], t('pin.unlockSubmit'), submitUnlock),
            button(t('pin.forgot'), 'secondary', () => {
              mode = 'forgot';
              errors = [];
              void countUnsent().then((n) => {
                unsent = n;
                render();
              });
            }, { 'data-forgot': 'true' }),
          ],
        };
      case 'forgot':
        return {
          title: t('pin.forgot'),
          parts: [
            h('p', {}, t('pin.forgotLead')),
            unsent > 0 ? h('div', { class: 'error', role: 'alert', 'data-unsent-warning': 'true' }, h('p', {}, t('pin.forgotUnsent', { count: unsent }))) : null,
            unsent > 0 && ctx.outbox ? button(t('outbox.exportJson'), 'secondary', () => void downloadUnsent(ctx.outbox!, 'json')) : null,
            unsent > 0 && ctx.outbox ? button(t('outbox.exportCsv'), 'secondary', () => void downloadUnsent(ctx.outbox!, 'csv')) : null,
            button(t('pin.forgotConfirm'), 'primary', () => {
              // The wipe happens after the password sign-in succeeds (home page), not here.
              requestPinReset();
              ctx.navigate('/login', { replace: true });
            }, { 'data-forgot-confirm': 'true' }),
            button(t('pin.back'), 'secondary', () => {
              mode = 'unlock';
              render();
            }),
          ],
        };
      case 'wiped':
        return {
          title: t('pin.wipedTitle'),
          parts: [
            h('div', { class: 'error', role: 'alert', 'data-wiped': 'true' }, h('p', {}, t('pin.wiped', { max: MAX_PIN_FAILURES }))),
            button(t('pin.toLogin'), 'primary', () => ctx.navigate('/login', { replace: true })),
          ],
        };
    }
  }

  function render(): void {
    const { title, parts } = body();
    root.replaceChildren(
      h(
        'section',
        { class: 'card pin', 'aria-labelledby': 'pin-title', 'data-pin-mode': mode },
        h('h1', { id: 'pin-title', tabindex: '-1' }, title),
        ...parts,
      ),
    );
  }

  void load();
  return {
    render,
    dispose() {
      disposed = true;
    },
  } satisfies Page;
};

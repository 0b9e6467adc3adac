/**
 * The push screens: the explanation offered once after sign-in (home) and the switch (account).
 */
import { t } from '../i18n';
import type { AppContext } from '../router';
import { h } from '../ui/dom';
import { problemText } from '../ui/problem-text';
import { browserPushDeps, disablePush, enablePush, pushState, shouldOffer, type PushDeps, type PushState } from './push';

const STATE_TEXT = {
  on: 'push.state.on',
  off: 'push.state.off',
  blocked: 'push.state.blocked',
  unsupported: 'push.state.unsupported',
} as const;

/**
 * Home, after sign-in: our own explanation in plain words, then the browser's prompt only if the
 * user says yes. Renders nothing once answered (or where push is not possible); the element
 * fills itself.
 */
export function pushOffer(deps: PushDeps): HTMLElement {
  const box = h('div', { 'data-push-offer': 'true' });
  let busy = false;
  let error: unknown = null;
  let answered: PushState | null = null;

  function draw(show: boolean): void {
    if (!show) {
      box.replaceChildren(answered ? h('p', { class: 'hint', role: 'status' }, t(STATE_TEXT[answered]), ' ', t('push.offer.later')) : '');
      return;
    }
    const yes = h('button', { type: 'button', class: 'primary', disabled: busy, 'data-action': 'push-yes' },
      busy ? t('push.state.working') : t('push.offer.yes'));
    const no = h('button', { type: 'button', class: 'secondary', disabled: busy, 'data-action': 'push-no' }, t('push.offer.no'));
    yes.addEventListener('click', () => void answer(true));
    no.addEventListener('click', () => void answer(false));
    box.replaceChildren(
      h('section', { class: 'card', 'aria-labelledby': 'push-offer-title' },
        h('h2', { id: 'push-offer-title' }, t('push.offer.title')),
        h('p', {}, t('push.offer.lead')),
        error ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(error))) : null,
        yes, no),
    );
  }

  async function answer(yes: boolean): Promise<void> {
    if (busy) return;
    busy = true;
    error = null;
    draw(true);
    try {
      answered = yes ? await enablePush(deps) : await disablePush(deps);
      busy = false;
      draw(false);
      box.querySelector<HTMLElement>('[role="status"]')?.focus();
      return;
    } catch (err) {
      error = err;
    }
    busy = false;
    draw(true);
  }

  void shouldOffer(deps).then((show) => draw(show), () => draw(false));
  return box;
}

/** Account: the switch, with the state in words (including "blocked by the browser"). */
export function pushSettings(deps: PushDeps): HTMLElement {
  const box = h('section', { class: 'card', 'aria-labelledby': 'push-settings-title', 'data-push-settings': 'true' });
  let state: PushState | null = null;
  let busy = false;
  let error: unknown = null;

  function draw(): void {
    const on = state === 'on';
    const usable = state === 'on' || state === 'off';
    const sw = h('button', {
      type: 'button', role: 'switch', class: `switch${on ? ' on' : ''}`, 'aria-checked': on ? 'true' : 'false',
      'aria-describedby': 'push-state', disabled: busy || !usable, 'data-action': 'push-switch',
    }, t('push.settings.switch'));
    sw.addEventListener('click', () => void toggle());
    box.replaceChildren(
      h('h2', { id: 'push-settings-title' }, t('push.settings.title')),
      sw,
      h('p', { id: 'push-state', role: 'status', 'data-push-state': state ?? 'loading' },
        busy || state === null ? t('push.state.working') : t(STATE_TEXT[state])),
    );
    if (error) box.append(h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(error))));
  }

  async function toggle(): Promise<void> {
    if (busy) return;
    busy = true;
    error = null;
    draw();
    try {
      state = state === 'on' ? await disablePush(deps) : await enablePush(deps);
    } catch (err) {
      error = err;
    }
    busy = false;
    draw();
    box.querySelector<HTMLElement>('[role="switch"]')?.focus();
  }

  draw();
  void pushState(deps).then((s) => {
    state = s;
    draw();
  }, (err: unknown) => {
    state = 'unsupported';
    error = err;
    draw();
  });
  return box;
}

export function defaultPushDeps(ctx: AppContext): PushDeps {
  return browserPushDeps(ctx.api);
}

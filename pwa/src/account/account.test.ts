// The account screens and their model, with a fake API: what a user sees and what is sent.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../api/client';
import { createApiClient } from '../api/client';
import { ApiError, NetworkError } from '../api/errors';
import type { User } from '../api/types';
import { LAST_USER_KEY } from '../auth/last-known';
import { signOutEverywhere } from '../auth/session';
import { setLang } from '../i18n';
import { accountPage, passwordPage } from '../field/pages/account';
import { loginPage } from '../field/pages/login';
import type { AppContext, Page } from '../router';
import { MIN_PASSWORD_LENGTH, passwordFormIssues } from './model';

const USER: User = {
  id: 'u1',
  login: 'coord01',
  display_name: '笠間 一郎',
  role: 'coordinator',
  district_ids: [],
  tenant: { id: 't1', name: '笠間市社会福祉協議会', municipality_code: '08216', time_zone: 'Asia/Tokyo' },
  must_change_password: false,
};
const RESET: User = { ...USER, must_change_password: true };

let root: HTMLElement;
let page: Page | undefined;
const flush = () => new Promise((r) => setTimeout(r, 0));
const text = (sel: string) => root.querySelector(sel)?.textContent ?? null;

function ctx(api: Partial<ApiClient>) {
  const navigate = vi.fn<AppContext['navigate']>();
  return { api: api as ApiClient, navigate } satisfies AppContext;
}

beforeEach(() => {
  localStorage.clear();
  setLang('ja');
  root = document.createElement('main');
  document.body.replaceChildren(root);
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(true);
});
afterEach(() => {
  page?.dispose?.();
  page = undefined;
});

describe('password form checks', () => {
  it('asks for the current password, a long enough new one, different and confirmed', () => {
    expect(passwordFormIssues({ current: '', next: 'short', confirm: 'other' }).map((i) => [i.field, i.key])).toEqual([
      ['current', 'account.password.missingCurrent'],
      ['next', 'account.password.tooShort'],
      ['confirm', 'account.password.mismatch'],
    ]);
    const same = 'x'.repeat(MIN_PASSWORD_LENGTH);
    expect(passwordFormIssues({ current: same, next: same, confirm: same }).map((i) => i.key)).toEqual(['account.password.same']);
    expect(passwordFormIssues({ current: 'old', next: 'y'.repeat(257), confirm: 'y'.repeat(257) }).map((i) => i.key)).toEqual(['account.password.tooLong']);
    expect(passwordFormIssues({ current: 'old-one', next: 'sakura-kasama-2026', confirm: 'sakura-kasama-2026' })).toEqual([]);
  });
});

describe('API client', () => {
  function respond(status: number, body: unknown): Response {
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status < 400 ? 'application/json' : 'application/problem+json' } });
  }

  it('reports a due password change and sends the change with the field names the server expects', async () => {
    const onPasswordChangeRequired = vi.fn();
    const answers = [
      respond(403, { status: 403, code: 'password_change_required', message: { ja: 'パスワードの変更が必要です。' } }),
      respond(403, { status: 403, code: 'forbidden' }),
      respond(200, USER),
    ];
    const fetchMock = vi.fn(async () => answers.shift()!);
    const api = createApiClient({ fetch: fetchMock as unknown as typeof fetch, readCookie: () => 'tok', onPasswordChangeRequired });
    await expect(api.get('/api/households')).rejects.toBeInstanceOf(ApiError);
    expect(onPasswordChangeRequired).toHaveBeenCalledTimes(1);
    await expect(api.get('/api/users')).rejects.toBeInstanceOf(ApiError);
    expect(onPasswordChangeRequired).toHaveBeenCalledTimes(1); // another 403 is not that
    await api.changePassword('temp-pass', 'sakura-kasama-2026');
    const [url, init] = fetchMock.mock.calls[2] as unknown as [string, RequestInit];
    expect(url).toBe('/api/auth/password');
    expect(JSON.parse(String(init.body))).toEqual({ current_password: 'temp-pass', new_password: 'sakura-kasama-2026' });
  });
});

describe('signing out everywhere', () => {
  it('forgets the user here only once the server ended the sessions', async () => {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify({ display_name: 'x', role: 'watcher', tenant_name: 't' }));
    const offline = { me: vi.fn(), login: vi.fn(), logout: vi.fn(), logoutEverywhere: vi.fn().mockRejectedValue(new NetworkError('down', 'unreachable')) };
    await expect(signOutEverywhere({ api: offline })).rejects.toBeInstanceOf(NetworkError);
    expect(localStorage.getItem(LAST_USER_KEY)).not.toBeNull();
    const online = { ...offline, logoutEverywhere: vi.fn().mockResolvedValue(undefined) };
    await signOutEverywhere({ api: online });
    expect(localStorage.getItem(LAST_USER_KEY)).toBeNull();
  });

  it('asks first, then ends every session and goes to the sign-in page', async () => {
    const logoutEverywhere = vi.fn().mockResolvedValue(undefined);
    const c = ctx({ me: vi.fn().mockResolvedValue(USER), logoutEverywhere });
    page = accountPage(root, c);
    page.render();
    await flush();
    expect(text('[data-field=login]')).toBe('coord01');
    root.querySelector<HTMLButtonElement>('[data-action=everywhere]')!.click();
    expect(logoutEverywhere).not.toHaveBeenCalled();
    expect(text('[data-everywhere-confirm]')).toContain('本当にすべての端末からログアウトしますか');
    root.querySelector<HTMLButtonElement>('[data-action=everywhere-confirm]')!.click();
    await flush();
    await flush();
    expect(logoutEverywhere).toHaveBeenCalledTimes(1);
    expect(c.navigate).toHaveBeenCalledWith('/login', { replace: true });
  });
});

describe('a password an admin reset', () => {
  it('sends the user from the sign-in straight to the change screen', async () => {
    const c = ctx({ login: vi.fn().mockResolvedValue(RESET) });
    page = loginPage(root, c);
    page.render();
    root.querySelector<HTMLInputElement>('#login-id')!.value = 'coord01';
    root.querySelector<HTMLInputElement>('#login-password')!.value = 'temp';
    root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await flush();
    expect(c.navigate).toHaveBeenCalledWith('/account/password', { replace: true });
  });

  it('keeps the account screen for after the change', async () => {
    const c = ctx({ me: vi.fn().mockResolvedValue(RESET) });
    page = accountPage(root, c);
    page.render();
    await flush();
    expect(c.navigate).toHaveBeenCalledWith('/account/password', { replace: true });
  });

  it('says why, checks the form before sending, and goes on once the password is changed', async () => {
    const changePassword = vi.fn()
      .mockRejectedValueOnce(new ApiError({
        status: 400, code: 'weak_password',
        message: { ja: 'パスワードは10文字以上で、推測されにくいものにしてください。', en: 'Use a password of at least 10 characters.' },
        errors: [{ field: 'new_password', code: 'invalid', message: { ja: '値が正しくありません。' } }],
      }))
      .mockResolvedValueOnce(USER);
    const c = ctx({ me: vi.fn().mockResolvedValue(RESET), changePassword });
    page = passwordPage(root, c);
    page.render();
    await flush();
    expect(text('h1')).toBe('新しいパスワードの設定');
    expect(text('[data-forced]')).toContain('管理者がパスワードをリセットしました');
    expect(root.querySelector('label[for=pw-new]')?.textContent).toBe('新しいパスワード');
    expect(root.querySelector('#pw-new')?.getAttribute('autocomplete')).toBe('new-password');
    expect(text('#pw-policy')).toContain('10文字以上');

    const fill = (current: string, next: string, confirm: string) => {
      root.querySelector<HTMLInputElement>('#pw-current')!.value = current;
      root.querySelector<HTMLInputElement>('#pw-new')!.value = next;
      root.querySelector<HTMLInputElement>('#pw-confirm')!.value = confirm;
      root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    };
    fill('temp', 'short', 'short');
    await flush();
    expect(changePassword).not.toHaveBeenCalled();
    expect(text('[role=alert]')).toContain('10文字以上にしてください');
    expect(root.querySelector('#pw-new')?.getAttribute('aria-invalid')).toBe('true');

    fill('temp', 'aaaaaaaaaaaa', 'aaaaaaaaaaaa');
    await flush();
    expect(changePassword).toHaveBeenCalledWith('temp', 'aaaaaaaaaaaa');
    expect(text('[role=alert]')).toContain('推測されにくいもの');
    expect(root.querySelector('#pw-new')?.getAttribute('aria-invalid')).toBe('true');
    expect(c.navigate).not.toHaveBeenCalled();

    fill('temp', 'sakura-kasama-2026', 'sakura-kasama-2026');
    await flush();
    expect(c.navigate).toHaveBeenCalledWith('/', { replace: true });
    expect(JSON.parse(localStorage.getItem(LAST_USER_KEY)!).display_name).toBe('笠間 一郎');
  });

  it('after an ordinary change it stays and says the other devices were signed out', async () => {
    const c = ctx({ me: vi.fn().mockResolvedValue(USER), changePassword: vi.fn().mockResolvedValue(USER) });
    page = passwordPage(root, c);
    page.render();
    await flush();
    expect(text('h1')).toBe('パスワードの変更');
    root.querySelector<HTMLInputElement>('#pw-current')!.value = 'old-password';
    root.querySelector<HTMLInputElement>('#pw-new')!.value = 'sakura-kasama-2026';
    root.querySelector<HTMLInputElement>('#pw-confirm')!.value = 'sakura-kasama-2026';
    root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await flush();
    expect(text('[data-password-changed]')).toBe('パスワードを変更しました。ほかの端末ではログアウトしました。');
    expect(c.navigate).not.toHaveBeenCalled();
  });
});

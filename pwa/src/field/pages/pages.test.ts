// DOM-level checks of the two pages with a fake API: what a user actually sees.
import { rememberSignInTarget } from '../../auth/landing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../api/client';
import { ApiError } from '../../api/errors';
import type { User } from '../../api/types';
import { LAST_USER_KEY } from '../../auth/last-known';
import { setLang } from '../../i18n';
import type { AppContext, Page } from '../../router';
import { homePage } from './home';
import { loginPage } from './login';

const USER: User = {
  id: 'u1',
  login: 'watcher01',
  display_name: '笠間 花子',
  role: 'watcher',
  district_ids: [],
  tenant: { id: 't1', name: '笠間市社会福祉協議会', municipality_code: '08216', time_zone: 'Asia/Tokyo' },
  must_change_password: false,
};

let root: HTMLElement;
let page: Page | undefined;

function ctx(api: Partial<ApiClient>) {
  const navigate = vi.fn<AppContext['navigate']>();
  return { api: api as ApiClient, navigate } satisfies AppContext;
}

function setOnline(value: boolean) {
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(value);
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const text = (sel: string) => root.querySelector(sel)?.textContent ?? null;

beforeEach(() => {
  localStorage.clear();
  setLang('ja');
  root = document.createElement('main');
  document.body.replaceChildren(root);
  setOnline(true);
});
afterEach(() => page?.dispose?.());

describe('home page', () => {
  it('shows the signed-in user with the translated role', async () => {
    const c = ctx({ me: vi.fn().mockResolvedValue(USER) });
    page = homePage(root, c);
    page.render();
    await flush();
    expect(text('[data-field=display_name]')).toBe('笠間 花子');
    expect(text('[data-field=login]')).toBe('watcher01');
    expect(text('[data-field=role]')).toBe('見守り協力員');
    expect(text('[data-field=tenant]')).toBe('笠間市社会福祉協議会');
    expect(text('[data-field=municipality_code]')).toBe('08216');
    expect(root.querySelector('[data-offline]')).toBeNull();
    setLang('en');
    page.render();
    expect(text('[data-field=role]')).toBe('Neighbourhood watcher');
  });

  it('renders offline from the last-known user with an オフライン indicator', async () => {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify({ display_name: '笠間 花子', role: 'watcher', tenant_name: '笠間市社会福祉協議会' }));
    setOnline(false);
    const me = vi.fn();
    const c = ctx({ me });
    page = homePage(root, c);
    page.render();
    await flush();
    expect(me).not.toHaveBeenCalled();
    expect(c.navigate).not.toHaveBeenCalled();
    expect(root.querySelector('[data-offline]')?.textContent).toContain('オフライン');
    expect(text('[data-field=display_name]')).toBe('笠間 花子');
    expect(text('[data-field=role]')).toBe('見守り協力員');
    expect(text('[data-field=tenant]')).toBe('笠間市社会福祉協議会');
    expect(root.querySelector('[data-field=login]')).toBeNull(); // not remembered
  });

  it("gives a disaster-VC volunteer a home that says what to do, and asks nothing they may not see (no 403s)", async () => {
    const get = vi.fn();
    const c = ctx({ me: vi.fn().mockResolvedValue({ ...USER, role: 'vc_volunteer' }), get });
    page = homePage(root, c);
    page.render();
    await flush();
    expect(root.querySelector('[data-volunteer-home]')?.textContent).toContain('受付');
    expect(get).not.toHaveBeenCalled();
    expect(root.querySelector('[data-ops]')).toBeNull();
    expect(root.querySelector('[data-escalations-link]')).toBeNull();
  });

  it('goes to the login page on 401', async () => {
    const c = ctx({ me: vi.fn().mockRejectedValue(new ApiError({ status: 401, code: 'not_authenticated' })) });
    page = homePage(root, c);
    page.render();
    await flush();
    expect(c.navigate).toHaveBeenCalledWith('/login', { replace: true });
  });

  it('sign-out calls the API, forgets the user and goes to login', async () => {
    const logout = vi.fn().mockResolvedValue(undefined);
    const c = ctx({ me: vi.fn().mockResolvedValue(USER), logout });
    page = homePage(root, c);
    page.render();
    await flush();
    expect(localStorage.getItem(LAST_USER_KEY)).not.toBeNull();
    const button = [...root.querySelectorAll('button')].find((b) => b.textContent === 'ログアウト')!;
    button.click();
    await flush();
    expect(logout).toHaveBeenCalledOnce();
    expect(localStorage.getItem(LAST_USER_KEY)).toBeNull();
    expect(c.navigate).toHaveBeenCalledWith('/login', { replace: true });
  });
});

describe('login page', () => {
  function fill(login: string, password: string) {
    root.querySelector<HTMLInputElement>('#login-id')!.value = login;
    root.querySelector<HTMLInputElement>('#login-password')!.value = password;
    root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
  }

  it('lands each role where its work is, or on the page it asked for (if the role may open it)', async () => {
    const signInAs = async (role: string) => {
      const c = ctx({ login: vi.fn().mockResolvedValue({ ...USER, role }) });
      page?.dispose?.();
      page = loginPage(root, c);
      page.render();
      fill('x', 'pw');
      await flush();
      return c.navigate.mock.calls[0]?.[0];
    };
    expect(await signInAs('staff')).toBe('/staff');
    expect(await signInAs('admin')).toBe('/staff');
    expect(await signInAs('coordinator')).toBe('/console');
    expect(await signInAs('commissioner')).toBe('/');
    expect(await signInAs('watcher')).toBe('/');
    // The page asked for survives sign-in …
    rememberSignInTarget('/console/op/abc');
    expect(await signInAs('coordinator')).toBe('/console/op/abc');
    rememberSignInTarget('/staff/audit');
    expect(await signInAs('staff')).toBe('/staff/audit');
    // … but not into a screen the role may not open, and only once.
    rememberSignInTarget('/staff/users');
    expect(await signInAs('watcher')).toBe('/');
    expect(await signInAs('staff')).toBe('/staff');
  });

  it('has labelled fields in Japanese', () => {
    page = loginPage(root, ctx({}));
    page.render();
    expect(root.querySelector('label[for=login-id]')?.textContent).toBe('ログインID');
    expect(root.querySelector('label[for=login-password]')?.textContent).toBe('パスワード');
    expect(root.querySelector<HTMLInputElement>('#login-password')?.type).toBe('password');
    expect(root.querySelector('button[type=submit]')?.textContent).toBe('ログイン');
  });

  it("shows the server's message in the current language, and re-translates it", async () => {
    const login = vi.fn().mockRejectedValue(
      new ApiError({ status: 401, code: 'invalid_credentials', message: { ja: 'ログインIDまたはパスワードが違います。', en: 'Wrong login ID or password.' } }),
    );
    page = loginPage(root, ctx({ login }));
    page.render();
    fill('watcher01', 'wrong');
    await flush();
    expect(login).toHaveBeenCalledWith('watcher01', 'wrong');
    expect(text('[role=alert]')).toBe('ログインIDまたはパスワードが違います。');
    setLang('en');
    page.render();
    expect(text('[role=alert]')).toBe('Wrong login ID or password.');
    // The typed login survives the language switch.
    expect(root.querySelector<HTMLInputElement>('#login-id')!.value).toBe('watcher01');
  });

  it('adds a wait hint from Retry-After on 429', async () => {
    const login = vi.fn().mockRejectedValue(
      new ApiError({ status: 429, code: 'too_many_attempts', message: { ja: '試行回数が多すぎます。', en: 'Too many attempts.' } }, 300),
    );
    page = loginPage(root, ctx({ login }));
    page.render();
    fill('watcher01', 'x');
    await flush();
    expect(text('[role=alert]')).toContain('試行回数が多すぎます。');
    expect(text('[role=alert]')).toContain('5分ほど待ってから');
  });

  it('asks for missing fields without calling the server', async () => {
    const login = vi.fn();
    page = loginPage(root, ctx({ login }));
    page.render();
    fill('', '');
    await flush();
    expect(login).not.toHaveBeenCalled();
    expect(text('[role=alert]')).toContain('ログインIDを入力してください。');
    expect(root.querySelector('#login-id')?.getAttribute('aria-invalid')).toBe('true');
  });

  it('goes home after a successful sign-in', async () => {
    const c = ctx({ login: vi.fn().mockResolvedValue(USER) });
    page = loginPage(root, c);
    page.render();
    fill(' watcher01 ', 'right');
    await flush();
    expect(c.api.login).toHaveBeenCalledWith('watcher01', 'right');
    expect(c.navigate).toHaveBeenCalledWith('/', { replace: true });
  });
});

// Accounts (issue #14): an admin resets a user's password from the staff area and the user must
// choose a new one at the next sign-in (nothing else opens until then); an admin disables a user
// who is signed in on a phone (the phone is signed out at once, sign-in is refused) and enables
// them again. Japanese screens, axe-clean.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unlockIfAsked } from './field-kit';
import {
  type Credential,
  credentialFor,
  type E2EEnv,
  expectAxeClean,
  newDesktopContext,
  newPhoneContext,
  shot,
  signInUi,
  useBrowser,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
let admin: Page;
let adminContext: BrowserContext;
let phoneContext: BrowserContext;
let phone: Page;
let user: Credential;
const NEW_PASSWORD = 'kasama-sakura-bridge-2026';

beforeAll(async () => {
  suite.ready();
  env = suite.env;
  user = { ...credentialFor(env, 'commissioner') };
  adminContext = await newDesktopContext(suite.browser, env.baseUrl);
  admin = await adminContext.newPage();
  await signInUi(admin, credentialFor(env, 'admin'));
  phoneContext = await newPhoneContext(suite.browser, env.baseUrl);
  phone = await phoneContext.newPage();
});
afterAll(async () => {
  await adminContext?.close();
  await phoneContext?.close();
});

async function usersRow(login: string) {
  await admin.goto('/staff/users');
  await admin.getByRole('heading', { level: 1, name: '利用者の管理' }).waitFor();
  const row = admin.locator(`table[data-users-table] tr[data-login="${login}"]`);
  await row.waitFor();
  return row;
}

async function confirm(): Promise<void> {
  const dialog = admin.locator('dialog[data-dialog="confirm"]');
  await dialog.waitFor();
  await expectAxeClean(admin, 'confirm dialog');
  await dialog.locator('[data-action="confirm"]').click();
  await dialog.waitFor({ state: 'detached' });
}

async function signInOnPhone(password: string): Promise<void> {
  await phone.goto('/login');
  await phone.getByLabel('ログインID').fill(user.login);
  await phone.getByLabel('パスワード').fill(password);
  await phone.getByRole('button', { name: 'ログイン', exact: true }).click();
}

describe('accounts', () => {
  it('a reset password lets the user do nothing but choose a new one, then the app opens', async () => {
    const row = await usersRow(user.login);
    expect(await row.locator('[data-status]').textContent()).toBe('有効');
    await expectAxeClean(admin, 'users page');
    await row.locator('[data-action="password-reset"]').click();
    await confirm();
    const temporary = (await admin.locator('[data-temporary-password]').textContent())!.trim();
    expect(temporary).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(await admin.locator(`tr[data-login="${user.login}"] [data-status]`).textContent()).toBe('有効（パスワード変更待ち）');
    await expectAxeClean(admin, 'temporary password');
    await shot(admin, '90-users-temporary-password');

    await signInOnPhone(temporary);
    await phone.waitForURL((url) => url.pathname === '/account/password');
    await phone.getByRole('heading', { level: 1, name: '新しいパスワードの設定' }).waitFor();
    expect(await phone.locator('[data-forced]').textContent()).toContain('管理者がパスワードをリセットしました');
    await expectAxeClean(phone, 'forced password change');
    // Nothing else opens until the change is made.
    await phone.goto('/staff');
    await phone.waitForURL((url) => url.pathname === '/account/password');
    await phone.getByRole('heading', { level: 1, name: '新しいパスワードの設定' }).waitFor();

    await phone.getByLabel('現在のパスワード').fill(temporary);
    await phone.getByLabel('新しいパスワード', { exact: true }).fill('short');
    await phone.getByLabel('新しいパスワード（確認のためもう一度）').fill('short');
    await phone.getByRole('button', { name: 'パスワードを変更する' }).click();
    await expect(phone.locator('#pw-errors').textContent()).resolves.toContain('10文字以上にしてください');
    await phone.getByLabel('新しいパスワード', { exact: true }).fill(NEW_PASSWORD);
    await phone.getByLabel('新しいパスワード（確認のためもう一度）').fill(NEW_PASSWORD);
    await phone.getByRole('button', { name: 'パスワードを変更する' }).click();
    await phone.waitForURL((url) => url.pathname !== '/account/password');
    await unlockIfAsked(phone, '[data-field="display_name"]'); // a first sign-in on this phone: set the PIN
    await phone.locator('[data-field="display_name"]').waitFor();
    user.password = NEW_PASSWORD;
    await shot(phone, '91-after-password-change');
    expect(await (await usersRow(user.login)).locator('[data-status]').textContent()).toBe('有効');
  });

  it('a disabled user is signed out at once and cannot sign in until enabled again', async () => {
    // The phone is signed in (previous test). The admin disables the account.
    let row = await usersRow(user.login);
    await row.locator('[data-action="disable"]').click();
    await confirm();
    await admin.locator('[data-notice]').waitFor();
    expect(await admin.locator(`tr[data-login="${user.login}"] [data-status]`).textContent()).toBe('無効');

    await phone.goto('/');
    await phone.waitForURL((url) => url.pathname === '/login');
    await signInOnPhone(user.password);
    await expect(phone.locator('[role=alert]').textContent()).resolves.toContain('ログインIDまたはパスワードが正しくありません');

    row = await usersRow(user.login);
    await row.locator('[data-action="enable"]').click();
    await confirm();
    await admin.locator('[data-notice]').waitFor();
    await signInOnPhone(user.password);
    await phone.waitForURL((url) => url.pathname !== '/login');
    await unlockIfAsked(phone, '[data-field="display_name"]');
    await phone.locator('[data-field="display_name"]').waitFor();
  });

  it('the account screen changes my password and signs me out on every device', async () => {
    await phone.goto('/account');
    await phone.getByRole('heading', { level: 1, name: 'アカウント設定' }).waitFor();
    await unlockIfAsked(phone, '[data-action="everywhere"]');
    await expectAxeClean(phone, 'account page');
    await phone.locator('[data-action="everywhere"]').click();
    await phone.locator('[data-everywhere-confirm]').waitFor();
    await expectAxeClean(phone, 'sign out everywhere');
    await phone.locator('[data-action="everywhere-confirm"]').click();
    await phone.waitForURL((url) => url.pathname === '/login');
  });
});

import { describe, expect, it } from 'vitest';
import { accountActions, actionPath, statusKey, visibleAccounts, withAccount, type Account } from './users-model';

const account = (over: Partial<Account>): Account => ({
  id: 'u', login: 'x', display_name: 'X', role: 'watcher', is_active: true, must_change_password: false, last_login_at: null, ...over,
});

describe('users list', () => {
  it('offers reset, disable and sign-out for an active user, reset and enable for a disabled one, nothing for oneself', () => {
    expect(accountActions(account({ id: 'a' }), 'me')).toEqual(['password-reset', 'disable', 'logout-everywhere']);
    expect(accountActions(account({ id: 'a', is_active: false }), 'me')).toEqual(['password-reset', 'enable']);
    expect(accountActions(account({ id: 'me', role: 'admin' }), 'me')).toEqual([]);
  });

  it('names the status: disabled first, then a password change that is due', () => {
    expect(statusKey(account({}))).toBe('staff.users.status.active');
    expect(statusKey(account({ must_change_password: true }))).toBe('staff.users.status.mustChange');
    expect(statusKey(account({ is_active: false, must_change_password: true }))).toBe('staff.users.status.disabled');
  });

  it('sorts by role then login and filters by login or name, full-width letters included', () => {
    const list = [
      account({ id: '1', login: 'watcher02', display_name: '笠間 花子', role: 'watcher' }),
      account({ id: '2', login: 'admin', display_name: '管理 太郎', role: 'admin' }),
      account({ id: '3', login: 'watcher01', display_name: '友部 次郎', role: 'watcher' }),
      account({ id: '4', login: 'coord', display_name: '岩間 三郎', role: 'coordinator' }),
    ];
    expect(visibleAccounts(list, '').map((a) => a.login)).toEqual(['admin', 'coord', 'watcher01', 'watcher02']);
    expect(visibleAccounts(list, 'ＷＡＴＣＨＥＲ').map((a) => a.login)).toEqual(['watcher01', 'watcher02']);
    expect(visibleAccounts(list, '花子').map((a) => a.id)).toEqual(['1']);
  });

  it('builds the action paths and replaces an updated account', () => {
    expect(actionPath({ id: '01a2/3' }, 'disable')).toBe('/api/users/01a2%2F3/disable');
    const list = [account({ id: '1' }), account({ id: '2' })];
    expect(withAccount(list, account({ id: '2', is_active: false })).map((a) => a.is_active)).toEqual([true, false]);
  });
});

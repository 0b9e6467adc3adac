import { ROLES } from '../api/types';
import type { MessageKey } from '../i18n';

/** `GET /api/users`: a user as the admins' list shows it. */
export interface Account {
  id: string;
  login: string;
  display_name: string;
  role: string;
  is_active: boolean;
  must_change_password: boolean;
  last_login_at: string | null;
}

/** `POST /api/users/{id}/password-reset`: the temporary password is in this answer only. */
export interface PasswordReset {
  user: Account;
  temporary_password: string;
}

export type AccountAction = 'password-reset' | 'disable' | 'enable' | 'logout-everywhere';

/** What an admin may do to `account` (the server decides again). Their own account is changed
 *  on the account screen instead: an admin cannot reset or disable themself. */
export function accountActions(account: Account, meId: string): AccountAction[] {
  if (account.id === meId) return [];
  return account.is_active ? ['password-reset', 'disable', 'logout-everywhere'] : ['password-reset', 'enable'];
}

export function actionPath(account: Pick<Account, 'id'>, action: AccountAction): string {
  return `/api/users/${encodeURIComponent(account.id)}/${action}`;
}

export function statusKey(account: Account): MessageKey {
  if (!account.is_active) return 'staff.users.status.disabled';
  if (account.must_change_password) return 'staff.users.status.mustChange';
  return 'staff.users.status.active';
}

const fold = (s: string) => s.normalize('NFKC').toLowerCase();

/** By role (admins first, as in ROLES), then login; `query` matches login or name (full-width
 *  letters typed with an IME match too). */
export function visibleAccounts(list: Account[], query: string): Account[] {
  const q = fold(query.trim());
  const rank = (role: string) => {
    const i = (ROLES as readonly string[]).indexOf(role);
    return i < 0 ? ROLES.length : i;
  };
  return list
    .filter((a) => !q || fold(a.login).includes(q) || fold(a.display_name).includes(q))
    .sort((a, b) => rank(a.role) - rank(b.role) || a.login.localeCompare(b.login));
}

/** Replaces one account in the list with the server's answer. */
export function withAccount(list: Account[], updated: Account): Account[] {
  return list.map((a) => (a.id === updated.id ? updated : a));
}

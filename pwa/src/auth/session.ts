import type { ApiClient } from '../api/client';
import { ApiError, NetworkError } from '../api/errors';
import type { User } from '../api/types';
import { clearPasswordSignInRequired } from '../vault/vault';
import { clearLastKnownUser, loadLastKnownUser, saveLastKnownUser, type LastKnownUser } from './last-known';

export type SessionState =
  | { kind: 'signed-in'; user: User }
  | { kind: 'signed-out' }
  /** Server unreachable: `user` is the last one seen on this device, if any. */
  | { kind: 'offline'; user: LastKnownUser | null };

// Gateway errors mean our app server is down behind the proxy: for the user that
// is the same as being offline, and says nothing about their session.
const UNREACHABLE_STATUSES = new Set([502, 503, 504]);

/**
 * What else ends with the session on this device (this device's push subscription: registered by
 * main.ts, so that auth/ depends on nothing of push/). Each runs once per sign-out; failures are
 * ignored, the sign-out goes on.
 */
const signOutHooks: ((storage: Storage | undefined) => Promise<void>)[] = [];

export function onSignOut(hook: (storage: Storage | undefined) => Promise<void>): void {
  signOutHooks.push(hook);
}

async function runSignOutHooks(storage: Storage | undefined): Promise<void> {
  for (const hook of signOutHooks) await hook(storage).catch(() => undefined);
}

export interface SessionDeps {
  api: Pick<ApiClient, 'me' | 'login' | 'logout'> & Partial<Pick<ApiClient, 'changePassword' | 'logoutEverywhere'>>;
  isOnline?: () => boolean;
  storage?: Storage;
}

export async function loadSession({ api, isOnline = () => navigator.onLine, storage }: SessionDeps): Promise<SessionState> {
  // navigator.onLine === false is reliable (true is not), so skip the doomed request.
  if (!isOnline()) return { kind: 'offline', user: loadLastKnownUser(storage) };
  try {
    const user = await api.me();
    saveLastKnownUser(user, storage);
    return { kind: 'signed-in', user };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      // The session ended on the server; the remembered user must not outlive it.
      clearLastKnownUser(storage);
      return { kind: 'signed-out' };
    }
    if (err instanceof NetworkError || (err instanceof ApiError && UNREACHABLE_STATUSES.has(err.status))) {
      return { kind: 'offline', user: loadLastKnownUser(storage) };
    }
    throw err;
  }
}

export async function signIn(deps: SessionDeps, login: string, password: string): Promise<User> {
  const user = await deps.api.login(login, password);
  saveLastKnownUser(user, deps.storage);
  // The password was given: a wipe for wrong PINs no longer blocks setting a new PIN.
  clearPasswordSignInRequired();
  return user;
}

/**
 * Always forgets the user locally, even when the server cannot be told: on a shared
 * or lost device, "sign out" must at least remove what this device shows.
 */
export async function signOut(deps: SessionDeps): Promise<void> {
  clearLastKnownUser(deps.storage);
  // This device's notifications end with the session (the server deletes its row at logout).
  await runSignOutHooks(deps.storage ?? safeLocalStorage());
  try {
    await deps.api.logout();
  } catch (err) {
    if (!(err instanceof NetworkError) && !(err instanceof ApiError && err.status === 401)) throw err;
  }
}

/** Where a user whose password an admin reset is sent: the API answers nothing else until then. */
export const PASSWORD_CHANGE_PATH = '/account/password';

export function mustChangePassword(user: Pick<User, 'must_change_password'> | null | undefined): boolean {
  return user?.must_change_password === true;
}

/** Changes the password; the server ends every other session and keeps this one. */
export async function changePassword(deps: SessionDeps, current: string, next: string): Promise<User> {
  if (!deps.api.changePassword) throw new Error('changePassword is not available');
  const user = await deps.api.changePassword(current, next);
  saveLastKnownUser(user, deps.storage);
  return user;
}

/**
 * Ends every session of the user on the server (a lost phone, a PC left signed in), then forgets
 * the user here like `signOut`. Unlike `signOut` it needs the server: offline it throws and
 * nothing is forgotten, so the user can see it did not happen.
 */
export async function signOutEverywhere(deps: SessionDeps): Promise<void> {
  if (!deps.api.logoutEverywhere) throw new Error('logoutEverywhere is not available');
  await deps.api.logoutEverywhere();
  clearLastKnownUser(deps.storage);
  await runSignOutHooks(deps.storage ?? safeLocalStorage());
}

function safeLocalStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

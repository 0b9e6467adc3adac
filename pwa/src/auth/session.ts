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

export interface SessionDeps {
  api: Pick<ApiClient, 'me' | 'login' | 'logout'>;
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
  try {
    await deps.api.logout();
  } catch (err) {
    if (!(err instanceof NetworkError) && !(err instanceof ApiError && err.status === 401)) throw err;
  }
}

import { isRole, type Role, type User } from '../api/types';

/**
 * What the device remembers about the signed-in user for showing the home page
 * offline. Deliberately only non-sensitive fields: no ids, login, districts or
 * anything else that would help someone who picks up a lost phone.
 */
export interface LastKnownUser {
  display_name: string;
  role: Role;
  tenant_name: string;
}

export const LAST_USER_KEY = 'tonari.lastUser';

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function toLastKnown(user: User): LastKnownUser {
  return { display_name: user.display_name, role: user.role, tenant_name: user.tenant.name };
}

export function saveLastKnownUser(user: User, store: Storage | undefined = storage()): void {
  try {
    store?.setItem(LAST_USER_KEY, JSON.stringify(toLastKnown(user)));
  } catch {
    // Quota or private mode: offline home will just not be available.
  }
}

export function loadLastKnownUser(store: Storage | undefined = storage()): LastKnownUser | null {
  const raw = store?.getItem(LAST_USER_KEY);
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v.display_name === 'string' && isRole(v.role) && typeof v.tenant_name === 'string') {
      // Rebuild rather than return `v`, so stray stored fields never reach the UI.
      return { display_name: v.display_name, role: v.role, tenant_name: v.tenant_name };
    }
  } catch {
    // Corrupt entry: treat as absent.
  }
  return null;
}

export function clearLastKnownUser(store: Storage | undefined = storage()): void {
  try {
    store?.removeItem(LAST_USER_KEY);
  } catch {
    // Nothing to do.
  }
}

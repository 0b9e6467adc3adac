import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError } from '../api/errors';
import type { User } from '../api/types';
import { LAST_USER_KEY, loadLastKnownUser } from './last-known';
import { loadSession, signIn, signOut, type SessionDeps } from './session';

const USER: User = {
  id: '0190c6a4-0000-7000-8000-000000000001',
  login: 'watcher01',
  display_name: '笠間 花子',
  role: 'watcher',
  district_ids: ['0190c6a4-0000-7000-8000-0000000000d1'],
  tenant: { id: '0190c6a4-0000-7000-8000-000000000002', name: '笠間市社会福祉協議会', municipality_code: '08216', time_zone: 'Asia/Tokyo' },
  must_change_password: false,
};
const REMEMBERED = { display_name: '笠間 花子', role: 'watcher', tenant_name: '笠間市社会福祉協議会' };

function deps(api: Partial<SessionDeps['api']>, online = true): SessionDeps {
  return {
    api: { me: vi.fn(), login: vi.fn(), logout: vi.fn(), ...api } as SessionDeps['api'],
    isOnline: () => online,
    storage: localStorage,
  };
}

beforeEach(() => localStorage.clear());

describe('last-known user', () => {
  it('is saved on a successful /me with only non-sensitive fields', async () => {
    const state = await loadSession(deps({ me: vi.fn().mockResolvedValue(USER) }));
    expect(state).toEqual({ kind: 'signed-in', user: USER });
    const stored = JSON.parse(localStorage.getItem(LAST_USER_KEY)!);
    expect(stored).toEqual(REMEMBERED);
    // Nothing that identifies the account or the districts leaks into storage.
    const raw = localStorage.getItem(LAST_USER_KEY)!;
    for (const secret of [USER.id, USER.login, USER.tenant.id, USER.district_ids[0]!]) expect(raw).not.toContain(secret);
  });

  it('is saved on sign-in', async () => {
    await signIn(deps({ login: vi.fn().mockResolvedValue(USER) }), 'watcher01', 'pw');
    expect(loadLastKnownUser(localStorage)).toEqual(REMEMBERED);
  });

  it('rejects a tampered or corrupt entry', () => {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify({ ...REMEMBERED, role: 'superuser' }));
    expect(loadLastKnownUser(localStorage)).toBeNull();
    localStorage.setItem(LAST_USER_KEY, '{not json');
    expect(loadLastKnownUser(localStorage)).toBeNull();
  });
});

describe('offline fallback', () => {
  it('uses the last-known user without a request when navigator is offline', async () => {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify(REMEMBERED));
    const me = vi.fn();
    const state = await loadSession(deps({ me }, false));
    expect(me).not.toHaveBeenCalled();
    expect(state).toEqual({ kind: 'offline', user: REMEMBERED });
  });

  it('uses the last-known user when the request fails', async () => {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify(REMEMBERED));
    const state = await loadSession(deps({ me: vi.fn().mockRejectedValue(new NetworkError('Failed to fetch', 'unreachable')) }));
    expect(state).toEqual({ kind: 'offline', user: REMEMBERED });
  });

  it('treats a gateway error as offline', async () => {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify(REMEMBERED));
    const state = await loadSession(deps({ me: vi.fn().mockRejectedValue(new ApiError({ status: 503 })) }));
    expect(state).toEqual({ kind: 'offline', user: REMEMBERED });
  });

  it('reports offline with no user when nothing was remembered', async () => {
    const state = await loadSession(deps({}, false));
    expect(state).toEqual({ kind: 'offline', user: null });
  });

  it('401 means signed out and forgets the remembered user', async () => {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify(REMEMBERED));
    const state = await loadSession(deps({ me: vi.fn().mockRejectedValue(new ApiError({ status: 401, code: 'not_authenticated' })) }));
    expect(state).toEqual({ kind: 'signed-out' });
    expect(localStorage.getItem(LAST_USER_KEY)).toBeNull();
  });

  it('other server errors are not hidden as offline', async () => {
    const err = new ApiError({ status: 500 });
    await expect(loadSession(deps({ me: vi.fn().mockRejectedValue(err) }))).rejects.toBe(err);
  });
});

describe('sign-out', () => {
  it('forgets the user even when the server is unreachable', async () => {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify(REMEMBERED));
    const logout = vi.fn().mockRejectedValue(new NetworkError('offline', 'unreachable'));
    await expect(signOut(deps({ logout }))).resolves.toBeUndefined();
    expect(logout).toHaveBeenCalledOnce();
    expect(localStorage.getItem(LAST_USER_KEY)).toBeNull();
  });
});

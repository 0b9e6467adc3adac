import { ApiError, NetworkError } from './errors';
import { parseRetryAfter, readProblem } from './problem';
import type { User } from './types';

export const CSRF_COOKIE = 'tonari_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface ApiClientOptions {
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Injected for tests; defaults to reading document.cookie. */
  readCookie?: (name: string) => string | null;
  /** Called when the server refuses a request because the user must choose a new password
   *  first (403 `password_change_required`); the app sends them to the change screen. */
  onPasswordChangeRequired?: () => void;
}

export function readDocumentCookie(name: string): string | null {
  if (typeof document === 'undefined') return null;
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(options: ApiClientOptions = {}) {
  // Bind lazily so tests that stub globalThis.fetch after import still work.
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const readCookie = options.readCookie ?? readDocumentCookie;

  async function send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(path, {
        ...init,
        credentials: 'same-origin',
        // Session state must never come from the HTTP cache (the SW does not cache /api either).
        cache: 'no-store',
      });
    } catch (err) {
      // fetch rejects only when no HTTP response arrived (offline, DNS, reset, CORS).
      throw new NetworkError(err instanceof Error ? err.message : String(err), 'unreachable');
    }
  }

  async function csrfToken(forceRefresh: boolean): Promise<string> {
    let token = forceRefresh ? null : readCookie(CSRF_COOKIE);
    if (!token) {
      // Any safe request sets the cookie; this endpoint exists just for that (204).
      const res = await send('/api/auth/csrf', { method: 'GET' });
      if (!res.ok) throw new ApiError(await readProblem(res), parseRetryAfter(res.headers.get('Retry-After')));
      token = readCookie(CSRF_COOKIE);
    }
    if (!token) {
      // Cookies blocked or a proxy stripped Set-Cookie: the POST would fail anyway.
      throw new ApiError({ status: 403, code: 'csrf_failed', title: 'CSRF cookie unavailable' });
    }
    return token;
  }

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const unsafe = !SAFE_METHODS.has(method);
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const init: RequestInit = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };

    let res: Response;
    if (unsafe) {
      headers[CSRF_HEADER] = await csrfToken(false);
      res = await send(path, init);
      if (res.status === 403 && (await peekCode(res)) === 'csrf_failed') {
        // The server may rotate the token (e.g. at login) or our cookie may have
        // expired: fetch a fresh one and retry exactly once.
        headers[CSRF_HEADER] = await csrfToken(true);
        res = await send(path, init);
      }
    } else {
      res = await send(path, init);
    }

    if (!res.ok) {
      const problem = await readProblem(res);
      if (res.status === 403 && problem.code === 'password_change_required') options.onPasswordChangeRequired?.();
      throw new ApiError(problem, parseRetryAfter(res.headers.get('Retry-After')));
    }
    if (res.status === 204 || method === 'HEAD') return undefined as T;
    if (!/json/i.test(res.headers.get('Content-Type') ?? '')) {
      // Our API always answers JSON; HTML with 200 means a captive portal or a
      // misrouted request answered instead — not our server, so not "signed in".
      throw new NetworkError(`Unexpected ${res.headers.get('Content-Type') ?? 'untyped'} response`, 'unexpected_response');
    }
    try {
      return (await res.json()) as T;
    } catch {
      throw new NetworkError('Invalid JSON in response', 'unexpected_response');
    }
  }

  return {
    request,
    get: <T>(path: string) => request<T>('GET', path),
    post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
    me: () => request<User>('GET', '/api/auth/me'),
    login: (login: string, password: string) => request<User>('POST', '/api/auth/login', { login, password }),
    logout: () => request<void>('POST', '/api/auth/logout'),
    /** Every other session of the user ends; this one continues (the server sets a new cookie). */
    changePassword: (currentPassword: string, newPassword: string) =>
      request<User>('POST', '/api/auth/password', { current_password: currentPassword, new_password: newPassword }),
    /** Ends every session of the user, this one included. */
    logoutEverywhere: () => request<void>('POST', '/api/auth/logout-everywhere'),
  };
}

/** Reads a 403's problem code without consuming the body the caller may still need. */
async function peekCode(res: Response): Promise<string | undefined> {
  return (await readProblem(res.clone())).code;
}

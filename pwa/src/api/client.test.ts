import { describe, expect, it, vi } from 'vitest';
import { createApiClient, CSRF_HEADER, readDocumentCookie } from './client';
import { ApiError, NetworkError } from './errors';
import { parseRetryAfter } from './problem';
import type { User } from './types';

const USER: User = {
  id: '0190c6a4-0000-7000-8000-000000000001',
  login: 'watcher01',
  display_name: '笠間 花子',
  role: 'watcher',
  district_ids: [],
  tenant: { id: '0190c6a4-0000-7000-8000-000000000002', name: '笠間市社会福祉協議会', municipality_code: '08216', time_zone: 'Asia/Tokyo' },
  must_change_password: false,
};

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

function problem(status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return new Response(
    JSON.stringify({ type: 'about:blank', title: code, status, code, message: { ja: `日本語:${code}`, en: `English:${code}` }, request_id: 'r1', ...extra }),
    { status, headers: { 'Content-Type': 'application/problem+json', ...headers } },
  );
}

/** A fake cookie jar + fetch: records calls, answers from a queue of handlers. */
function harness(responses: Array<(url: string, init: RequestInit) => Response>, cookie: string | null = 'tok-1') {
  const jar = { token: cookie };
  const calls: Array<{ url: string; init: RequestInit; headers: Headers }> = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({ url, init, headers: new Headers(init.headers) });
    const next = responses.shift();
    if (!next) throw new Error(`unexpected request ${url}`);
    return next(url, init);
  });
  const api = createApiClient({ fetch: fetchMock as typeof fetch, readCookie: () => jar.token });
  return { api, calls, jar };
}

describe('CSRF', () => {
  it('sends the cookie value as X-CSRF-Token on POST, with same-origin credentials', async () => {
    const { api, calls } = harness([() => json(USER)]);
    await api.login('watcher01', 'secret');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('/api/auth/login');
    expect(calls[0]!.init.method).toBe('POST');
    expect(calls[0]!.headers.get(CSRF_HEADER)).toBe('tok-1');
    expect(calls[0]!.init.credentials).toBe('same-origin');
    expect(calls[0]!.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ login: 'watcher01', password: 'secret' });
  });

  it('does not send the CSRF header on GET', async () => {
    const { api, calls } = harness([() => json(USER)]);
    await api.me();
    expect(calls[0]!.init.method).toBe('GET');
    expect(calls[0]!.headers.has(CSRF_HEADER)).toBe(false);
  });

  it('fetches /api/auth/csrf first when the cookie is missing', async () => {
    const h = harness(
      [
        () => {
          h.jar.token = 'fresh'; // the 204 sets the cookie
          return new Response(null, { status: 204 });
        },
        () => new Response(null, { status: 204 }),
      ],
      null,
    );
    await h.api.logout();
    expect(h.calls.map((c) => `${c.init.method} ${c.url}`)).toEqual(['GET /api/auth/csrf', 'POST /api/auth/logout']);
    expect(h.calls[1]!.headers.get(CSRF_HEADER)).toBe('fresh');
  });

  it('fails with csrf_failed when the cookie still cannot be obtained', async () => {
    const { api, calls } = harness([() => new Response(null, { status: 204 })], null);
    const err = await api.logout().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('csrf_failed');
    expect(calls).toHaveLength(1); // the POST was never sent without a token
  });

  it('refreshes the token and retries once after a csrf_failed 403', async () => {
    const h = harness([
      () => problem(403, 'csrf_failed'),
      () => {
        h.jar.token = 'rotated';
        return new Response(null, { status: 204 });
      },
      () => json(USER),
    ]);
    await expect(h.api.login('a', 'b')).resolves.toEqual(USER);
    expect(h.calls.map((c) => c.url)).toEqual(['/api/auth/login', '/api/auth/csrf', '/api/auth/login']);
    expect(h.calls[2]!.headers.get(CSRF_HEADER)).toBe('rotated');
  });

  it('gives up after one retry', async () => {
    const h = harness([() => problem(403, 'csrf_failed'), () => new Response(null, { status: 204 }), () => problem(403, 'csrf_failed')]);
    const err = await h.api.login('a', 'b').catch((e: unknown) => e);
    expect((err as ApiError).code).toBe('csrf_failed');
    expect(h.calls).toHaveLength(3);
  });

  it('reads the token from document.cookie by name', () => {
    document.cookie = 'other=1';
    document.cookie = 'tonari_csrf=abc%3D%3D';
    expect(readDocumentCookie('tonari_csrf')).toBe('abc==');
    expect(readDocumentCookie('missing')).toBeNull();
  });
});

describe('problem+json', () => {
  it('parses code, bilingual message, field errors and request id', async () => {
    const { api } = harness([
      () =>
        problem(422, 'validation_failed', {
          errors: [{ field: 'login', code: 'required', message: { ja: '必須です', en: 'Required' } }, 'junk'],
        }),
    ]);
    const err = (await api.login('', '').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.code).toBe('validation_failed');
    expect(err.problem.message).toEqual({ ja: '日本語:validation_failed', en: 'English:validation_failed' });
    expect(err.problem.errors).toEqual([{ field: 'login', code: 'required', message: { ja: '必須です', en: 'Required' } }]);
    expect(err.problem.request_id).toBe('r1');
    expect(err.retryAfter).toBeNull();
  });

  it('reads Retry-After seconds on 429', async () => {
    const { api } = harness([() => problem(429, 'too_many_attempts', {}, { 'Retry-After': '120' })]);
    const err = (await api.login('a', 'b').catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(429);
    expect(err.code).toBe('too_many_attempts');
    expect(err.retryAfter).toBe(120);
  });

  it('survives a non-JSON error body (proxy error page)', async () => {
    const { api } = harness([() => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/html' } })]);
    const err = (await api.me().catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(502);
    expect(err.code).toBeUndefined();
    expect(err.problem.message).toBeUndefined();
  });

  it('parses Retry-After as seconds or HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('responses', () => {
  it('maps 401 on /me to ApiError 401', async () => {
    const { api } = harness([() => problem(401, 'not_authenticated')]);
    const err = (await api.me().catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(401);
    expect(err.code).toBe('not_authenticated');
  });

  it('wraps a rejected fetch as NetworkError(unreachable)', async () => {
    const { api } = harness([
      () => {
        throw new TypeError('Failed to fetch');
      },
    ]);
    const err = (await api.me().catch((e: unknown) => e)) as NetworkError;
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.reason).toBe('unreachable');
  });

  it('treats an HTML 200 (captive portal) as NetworkError, not as a user', async () => {
    const { api } = harness([() => new Response('<html>Wi-Fi login</html>', { status: 200, headers: { 'Content-Type': 'text/html' } })]);
    const err = (await api.me().catch((e: unknown) => e)) as NetworkError;
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.reason).toBe('unexpected_response');
  });

  it('returns undefined for 204', async () => {
    const { api } = harness([() => new Response(null, { status: 204 })]);
    await expect(api.logout()).resolves.toBeUndefined();
  });
});

import { CSRF_COOKIE, CSRF_HEADER, readDocumentCookie, type ApiClient } from '../api/client';
import { ApiError, NetworkError } from '../api/errors';
import { parseRetryAfter, toProblem } from '../api/problem';

/**
 * An API error that keeps the raw body: a refused import (422 `import_failed`) carries its
 * report there, which the shared problem parser does not keep.
 */
export class StaffApiError extends ApiError {
  constructor(
    problem: ApiError['problem'],
    readonly body: unknown,
    retryAfter: number | null = null,
  ) {
    super(problem, retryAfter);
    this.name = 'StaffApiError';
  }
}

/**
 * A multipart POST (file uploads) with the same CSRF echo as the JSON client. The shared
 * client only sends JSON bodies, and the import endpoint needs `multipart/form-data`.
 */
export async function postForm<T>(api: ApiClient, path: string, form: FormData): Promise<T> {
  let token = readDocumentCookie(CSRF_COOKIE);
  if (!token) {
    await api.get<void>('/api/auth/csrf');
    token = readDocumentCookie(CSRF_COOKIE);
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      body: form,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json, application/problem+json', [CSRF_HEADER]: token ?? '' },
    });
  } catch (err) {
    throw new NetworkError(err instanceof Error ? err.message : String(err), 'unreachable');
  }
  let body: unknown = undefined;
  if (/json/i.test(res.headers.get('Content-Type') ?? '')) {
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
  } else if (res.ok) {
    throw new NetworkError(`Unexpected ${res.headers.get('Content-Type') ?? 'untyped'} response`, 'unexpected_response');
  }
  if (!res.ok) {
    throw new StaffApiError(toProblem(body, res.status, res.statusText), body, parseRetryAfter(res.headers.get('Retry-After')));
  }
  return body as T;
}

/** Every page of a paged list endpoint (`{items,total,offset,limit}`), up to `max` items. */
export async function getAllPages<T>(api: ApiClient, path: string, max = 5000): Promise<T[]> {
  const out: T[] = [];
  const sep = path.includes('?') ? '&' : '?';
  for (let offset = 0; offset < max; ) {
    const page = await api.get<{ items: T[]; total: number }>(`${path}${sep}offset=${offset}&limit=500`);
    out.push(...page.items);
    offset += 500;
    if (page.items.length === 0 || offset >= page.total) break;
  }
  return out;
}

import type { FieldProblem, LocalizedText, Problem } from './types';

// The body comes from the network: validate shapes instead of trusting a cast, so a
// proxy's odd error page degrades to a generic message rather than a crash.

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function localized(value: unknown): LocalizedText | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const out: LocalizedText = {};
  if (typeof v.ja === 'string') out.ja = v.ja;
  if (typeof v.en === 'string') out.en = v.en;
  return out.ja || out.en ? out : undefined;
}

function fieldProblems(value: unknown): FieldProblem[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value
    .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
    .map((e) => ({ field: str(e.field) ?? '', code: str(e.code), message: localized(e.message) }));
}

const MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'message', 'errors', 'request_id', 'instance']);

function extensions(b: Record<string, unknown>): Record<string, string | number | boolean> | undefined {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(b)) {
    if (!MEMBERS.has(k) && (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

export function toProblem(body: unknown, httpStatus: number, statusText = ''): Problem {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  return {
    type: str(b.type),
    title: str(b.title) ?? (statusText || undefined),
    // Trust the HTTP status over the body's: it is what the browser actually got.
    status: httpStatus,
    detail: str(b.detail),
    code: str(b.code),
    message: localized(b.message),
    errors: fieldProblems(b.errors),
    request_id: str(b.request_id),
    extensions: extensions(b),
  };
}

export async function readProblem(res: Response): Promise<Problem> {
  let body: unknown = undefined;
  if (/json/i.test(res.headers.get('Content-Type') ?? '')) {
    try {
      body = await res.json();
    } catch {
      // Truncated or invalid JSON: fall through with an empty body.
    }
  }
  return toProblem(body, res.status, res.statusText);
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value == null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

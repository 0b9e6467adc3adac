import type { ApiClient } from '../api/client';
import { ApiError, NetworkError } from '../api/errors';
import { t, type MessageKey } from '../i18n';
import type { TonariDB } from '../device-db/db';
import { h } from '../ui/dom';
import { problemText } from '../ui/problem-text';
import { getSealed, putSealed } from '../vault/store';
import { ageText } from './sync';

export interface FetchedOrCached<T> {
  /** From the server, else the sealed copy of the last answer, else null. */
  value: T | null;
  savedAt: number | null;
  /** The server could not be reached (or answered 5xx): the value is the cached one. */
  offline: boolean;
  /** Any other refusal, to show; the value is the cached one. */
  error: unknown;
  /** 401: the caller sends the user to sign in. */
  signedOut: boolean;
}

/**
 * A field list that must also work with no signal: fetch it and keep a sealed copy, or fall back
 * to the copy (with its age) when offline or refused.
 */
export async function fetchOrCached<T>(
  api: Pick<ApiClient, 'get'>,
  db: TonariDB | undefined,
  url: string,
  cacheKey: string,
): Promise<FetchedOrCached<T>> {
  let offline = !navigator.onLine;
  let error: unknown = null;
  if (!offline) {
    try {
      const value = await api.get<T>(url);
      const savedAt = Date.now();
      if (db) await putSealed(db, cacheKey, value, savedAt);
      return { value, savedAt, offline: false, error: null, signedOut: false };
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        return { value: null, savedAt: null, offline: false, error: null, signedOut: true };
      }
      offline = err instanceof NetworkError || (err instanceof ApiError && err.status >= 500);
      if (!offline) error = err;
    }
  }
  const cached = db ? await getSealed<T>(db, cacheKey) : null;
  return { value: cached?.value ?? null, savedAt: cached?.saved_at ?? null, offline, error, signedOut: false };
}

/**
 * What a list fetched with `fetchOrCached` says above itself: that it is the offline copy and
 * how old it is, or why the server refused.
 */
export function cachedListNotices(
  got: { offline: boolean; savedAt: number | null; error: unknown },
  offlineKey: MessageKey,
): Array<HTMLElement | null> {
  const age = got.offline && got.savedAt !== null ? ageText(got.savedAt) : null;
  return [
    got.offline ? h('div', { class: 'offline', role: 'status', 'data-offline': 'true' }, h('p', {}, t(offlineKey))) : null,
    age ? h('p', { class: 'age', 'data-age': String(got.savedAt) }, t(age.key, { n: age.n })) : null,
    got.error ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(got.error))) : null,
  ];
}

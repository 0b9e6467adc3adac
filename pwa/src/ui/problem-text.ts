import { ApiError, NetworkError } from '../api/errors';
import { getLang, t } from '../i18n';

/**
 * The sentence to show for a failed request, in the current language. The
 * server's own message wins (it knows what went wrong); otherwise fall back to
 * the other language's message, then to our generic texts.
 */
export function problemText(err: unknown): string {
  if (err instanceof NetworkError) return t('error.network');
  if (err instanceof ApiError) {
    const lang = getLang();
    const msg = err.problem.message;
    let text = msg?.[lang] ?? msg?.ja ?? msg?.en ?? t('error.generic');
    if (err.retryAfter !== null && (err.status === 429 || err.status === 503)) {
      text += ' ' + waitHint(err.retryAfter);
    }
    return text;
  }
  return t('error.generic');
}

export function waitHint(seconds: number): string {
  // "Wait 900 seconds" is hard to act on; minutes read naturally past one minute.
  return seconds < 60
    ? t('wait.seconds', { seconds: Math.max(1, seconds) })
    : t('wait.minutes', { minutes: Math.ceil(seconds / 60) });
}

/** Field-level messages (validation_failed), keyed by field name. */
export function fieldProblemTexts(err: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!(err instanceof ApiError)) return out;
  const lang = getLang();
  for (const e of err.problem.errors ?? []) {
    const text = e.message?.[lang] ?? e.message?.ja ?? e.message?.en;
    if (e.field && text) out.set(e.field, text);
  }
  return out;
}

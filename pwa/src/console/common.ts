import { CONSOLE_ROLES, rememberSignInTarget } from '../auth/landing';
import { loadSession, mustChangePassword, PASSWORD_CHANGE_PATH } from '../auth/session';
import { getLang, t } from '../i18n';
import type { AppContext } from '../router';
import { appLink, h } from '../ui/dom';

export { CONSOLE_ROLES };

/**
 * The console's entry check, shared by its pages: 'signed-out' (the caller sends the visitor to
 * sign in), 'forbidden' (another role), 'redirected' (a password change is due: sent to that
 * screen), or 'ok' — also when offline, where the page's own requests will tell.
 */
export async function consoleAccess(ctx: AppContext): Promise<'signed-out' | 'forbidden' | 'redirected' | 'ok'> {
  const session = await loadSession({ api: ctx.api });
  if (session.kind === 'signed-out') {
    rememberSignInTarget(location.pathname + location.search); // the page asked for, after sign-in
    return 'signed-out';
  }
  if (session.kind === 'signed-in' && mustChangePassword(session.user)) {
    ctx.navigate(PASSWORD_CHANGE_PATH, { replace: true });
    return 'redirected';
  }
  return session.kind === 'signed-in' && !CONSOLE_ROLES.has(session.user.role) ? 'forbidden' : 'ok';
}

export function consoleNav(ctx: AppContext): HTMLElement {
  return h('nav', { class: 'console-nav', 'aria-label': t('console.nav.label') },
    appLink(ctx, '/console', t('console.nav.operations')),
    appLink(ctx, '/staff', t('console.nav.staff')),
    appLink(ctx, '/', t('home.title')));
}

/** Local clock time (the council's time zone is the browser's on their own machines). */
export function timeOf(iso: string, withDate = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const locale = getLang() === 'ja' ? 'ja-JP' : 'en-GB';
  return withDate
    ? d.toLocaleString(locale, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

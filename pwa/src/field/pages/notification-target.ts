/**
 * The paths notifications open (server/push: `/operations/:id`, `/operations/:id/escalations/:eid`):
 * each role's own screen for them.
 */
import type { User } from '../../api/types';
import { loadSession } from '../../auth/session';
import { t } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';

const CONSOLE_ROLES = new Set(['admin', 'staff', 'coordinator']);

/** Where a notification's path shows its subject for this user. */
export function screenFor(user: Pick<User, 'role'> | null, operationId: string, escalationId?: string): string {
  const id = encodeURIComponent(operationId);
  if (user && CONSOLE_ROLES.has(user.role)) return `/console/op/${id}`; // its escalation queue included
  return escalationId ? '/escalations' : `/op/${id}`;
}

/**
 * `/operations/:id` and `/operations/:id/escalations/:eid` (the paths notifications carry): the
 * coordinator's console or the field screen, by role. Offline, the last signed-in user decides.
 */
export const notificationTargetPage: PageFactory = (root, ctx, params) => {
  let disposed = false;
  const render = () => root.replaceChildren(h('p', { role: 'status' }, t('push.opening')));
  void loadSession({ api: ctx.api }).then((session) => {
    if (disposed) return;
    if (session.kind === 'signed-out') {
      ctx.navigate('/login', { replace: true });
      return;
    }
    const user = session.kind === 'signed-in' ? session.user : session.user;
    ctx.navigate(screenFor(user, params?.['id'] ?? '', params?.['eid']), { replace: true });
  }, () => {
    if (!disposed) ctx.navigate('/', { replace: true });
  });
  return { render, dispose: () => void (disposed = true) } satisfies Page;
};

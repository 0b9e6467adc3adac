import type { User } from '../api/types';
import { CONSOLE_ROLES, rememberSignInTarget, STAFF_ROLES, VC_DESK_ROLES } from '../auth/landing';
import { loadSession, mustChangePassword, onSignOut, PASSWORD_CHANGE_PATH } from '../auth/session';
import { t, type MessageKey } from '../i18n';
import type { AppContext } from '../router';
import { appLink, h } from '../ui/dom';
import { problemText } from '../ui/problem-text';

export { STAFF_ROLES };

export interface NavItem {
  path: string;
  key: MessageKey;
  /** Who may use the screen (default: STAFF_ROLES); the others are not shown the link. */
  roles?: ReadonlySet<string>;
}

export const STAFF_NAV: NavItem[] = [
  { path: '/staff', key: 'staff.home.title' },
  { path: '/staff/imports', key: 'staff.imports.title' },
  { path: '/staff/operations', key: 'staff.nav.operations' },
  { path: '/staff/registry', key: 'staff.reg.title' },
  { path: '/staff/watch', key: 'staff.watch.title' },
  { path: '/staff/drills', key: 'staff.nav.drills' },
  { path: '/staff/vc', key: 'vc.title', roles: VC_DESK_ROLES },
  { path: '/staff/audit', key: 'staff.audit.title', roles: new Set(['admin', 'staff']) },
  { path: '/staff/users', key: 'staff.users.title', roles: new Set(['admin']) },
];

/** The navigation a role is shown (all of it while the role is not known yet). */
export function staffNavFor(role: string | null): NavItem[] {
  return role === null ? STAFF_NAV : STAFF_NAV.filter((item) => (item.roles ?? STAFF_ROLES).has(role));
}

// The signed-in role as the last staff screen learnt it, for the navigation of the next frames.
let navRole: string | null = null;
onSignOut(async () => {
  navRole = null;
});

/**
 * Signs-in check shared by every staff screen: resolves to the user, or sends a signed-out
 * visitor to the login page (null). Other roles get the page's "not for you" text.
 */
export async function requireStaffUser(ctx: AppContext, roles: ReadonlySet<string> = STAFF_ROLES): Promise<User | null | 'forbidden'> {
  const session = await loadSession({ api: ctx.api });
  if (session.kind === 'signed-out') {
    rememberSignInTarget(location.pathname + location.search);
    ctx.navigate('/login', { replace: true });
    return null;
  }
  if (session.kind !== 'signed-in') throw new Error('offline');
  navRole = session.user.role;
  if (mustChangePassword(session.user)) {
    ctx.navigate(PASSWORD_CHANGE_PATH, { replace: true });
    return null;
  }
  return roles.has(session.user.role) ? session.user : 'forbidden';
}

/** The frame around every staff screen: navigation, the page heading, then the content. */
export function staffFrame(ctx: AppContext, current: string, titleKey: MessageKey, ...content: (Node | null | false | undefined)[]): HTMLElement {
  const nav = h(
    'nav',
    { class: 'staff-nav', 'aria-label': t('staff.home.title') },
    h(
      'ul',
      {},
      ...staffNavFor(navRole).map((item) =>
        h('li', {}, appLink(ctx, item.path, t(item.key), item.path === current ? { 'aria-current': 'page' } : {})),
      ),
      navRole === null || CONSOLE_ROLES.has(navRole) ? h('li', {}, appLink(ctx, '/console', t('staff.nav.console'))) : null,
      h('li', {}, appLink(ctx, '/', t('staff.nav.field'))),
    ),
  );
  return h(
    'div',
    { class: 'staff' },
    nav,
    h('section', { class: 'staff-body', 'aria-labelledby': 'staff-title' }, h('h1', { id: 'staff-title', tabindex: '-1' }, t(titleKey)), ...content),
  );
}

export function errorBox(err: unknown): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(err)));
}

export function statusLine(text: string): HTMLElement {
  return h('p', { role: 'status' }, text);
}

/**
 * The common life cycle of a staff page: check the session, then `ready(user)`; while
 * loading or on failure, a status line or an error box inside the frame.
 */
export function staffGate(
  root: HTMLElement,
  ctx: AppContext,
  current: string,
  titleKey: MessageKey,
  ready: (user: User) => void,
  roles: ReadonlySet<string> = STAFF_ROLES,
): { render(body: () => (Node | null | false | undefined)[]): void; disposed(): boolean; dispose(): void } {
  let disposed = false;
  let failure: unknown = null;
  let forbidden = false;
  let userReady = false;
  let lastBody: (() => (Node | null | false | undefined)[]) | null = null;

  function render(body: () => (Node | null | false | undefined)[]): void {
    lastBody = body;
    if (disposed) return;
    const focused = document.activeElement?.id === 'staff-title';
    let content: (Node | null | false | undefined)[];
    if (failure) content = [errorBox(failure)];
    else if (forbidden) content = [h('p', { class: 'error', role: 'alert' }, t('staff.forbidden'))];
    else if (!userReady) content = [statusLine(t('home.loading'))];
    else content = body();
    root.replaceChildren(staffFrame(ctx, current, titleKey, ...content));
    if (focused) root.querySelector<HTMLElement>('#staff-title')?.focus();
  }

  requireStaffUser(ctx, roles).then(
    (user) => {
      if (disposed || user === null) return;
      if (user === 'forbidden') forbidden = true;
      else {
        userReady = true;
        ready(user);
      }
      if (lastBody) render(lastBody);
    },
    (err: unknown) => {
      failure = err;
      if (lastBody) render(lastBody);
    },
  );

  return {
    render,
    disposed: () => disposed,
    dispose: () => {
      disposed = true;
    },
  };
}

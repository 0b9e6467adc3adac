/**
 * Where each role lands after signing in, and the page a signed-out visitor asked for, kept
 * through sign-in (#17): staff and admins land on /staff, coordinators on /console, a lent VC
 * helper (vc_desk) on the volunteer centre desk, field roles on the field home. A remembered page wins when the role may open it. Staff and coordinators
 * who go straight to their desk screens are not sent through the field PIN: the PIN protects
 * what field screens keep on the device (docs/decisions/0008, addendum #17).
 */

/** Roles that may open the staff screens; the server still decides each request. */
export const STAFF_ROLES: ReadonlySet<string> = new Set(['admin', 'staff', 'coordinator']);
/** Roles that may run the volunteer centre desk (/staff/vc); the server still decides every request. */
export const VC_DESK_ROLES: ReadonlySet<string> = new Set(['admin', 'staff', 'coordinator', 'vc_desk']);
/** Roles that may open the console; the server still decides every request. */
export const CONSOLE_ROLES: ReadonlySet<string> = new Set(['admin', 'staff', 'coordinator', 'commissioner']);

const NEXT_KEY = 'tonari.signInNext';

export function landingPath(role: string): string {
  if (role === 'admin' || role === 'staff') return '/staff';
  if (role === 'coordinator') return '/console';
  if (role === 'vc_desk') return '/staff/vc';
  return '/';
}

function allowed(path: string, role: string): boolean {
  const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
  if (under('/staff/vc')) return VC_DESK_ROLES.has(role);
  if (under('/staff')) return STAFF_ROLES.has(role);
  if (under('/console')) return CONSOLE_ROLES.has(role);
  return false;
}

/** Keeps the page a signed-out visitor asked for (only /staff and /console pages: field pages have their own). */
export function rememberSignInTarget(path: string): void {
  if (!path.startsWith('/') || path.startsWith('//')) return;
  try {
    sessionStorage.setItem(NEXT_KEY, path);
  } catch {
    // Storage refused (private mode): the user lands on their role's page instead.
  }
}

/** Where to go after signing in as `role`: the remembered page if this role may open it, else the role's landing page. */
export function takeSignInTarget(role: string): string {
  let next: string | null = null;
  try {
    next = sessionStorage.getItem(NEXT_KEY);
    sessionStorage.removeItem(NEXT_KEY);
  } catch {
    // As above.
  }
  return next && allowed(next, role) ? next : landingPath(role);
}

/**
 * Between a volunteer-centre drill run and its drill centre: the run (its row and its report) links
 * to the centre's desk, its needs map in the console and its A4 daily sheet; the centre's screens
 * link back to the run. Each link is shown only to the roles that may open its screen (the server
 * still decides every request).
 */
import { STAFF_ROLES } from '../../auth/landing';
import { t, type MessageKey } from '../../i18n';
import type { AppContext } from '../../router';
import { appLink, h } from '../../ui/dom';
import type { Run } from './drills-model';

/** `/staff/vc/…` (desk and daily sheet): the council's staff and the lent desk helpers (decision 0025). */
const DESK_ROLES: ReadonlySet<string> = new Set(['admin', 'staff', 'coordinator', 'vc_desk']);
/** `/console/vc/:id`: console roles that run a centre (a commissioner has no VC; a helper no console). */
const CONSOLE_VC_ROLES: ReadonlySet<string> = new Set(['admin', 'staff', 'coordinator']);

export interface CentreLink {
  key: MessageKey;
  href: string;
}

/** The drill centre's screens a user of `role` may open from a VC run (none for a safety check). */
export function centreLinks(run: Pick<Run, 'centre'>, role: string): CentreLink[] {
  const c = run.centre;
  if (!c) return [];
  const op = encodeURIComponent(c.operation_id);
  const links: [ReadonlySet<string>, CentreLink][] = [
    [DESK_ROLES, { key: 'staff.drills.centreDesk', href: `/staff/vc/${op}/board` }],
    [CONSOLE_VC_ROLES, { key: 'staff.drills.centreMap', href: `/console/vc/${op}` }],
    [DESK_ROLES, { key: 'staff.drills.centreSheet', href: `/staff/vc/${op}/day/${encodeURIComponent(c.opened_on)}` }],
  ];
  return links.filter(([roles]) => roles.has(role)).map(([, link]) => link);
}

/** Whether `role` may open a drill run's screens (`/staff/drills/…`, the staff area). */
export function mayOpenRun(role: string): boolean {
  return STAFF_ROLES.has(role);
}

export function runPath(runId: string): string {
  return `/staff/drills/${encodeURIComponent(runId)}`;
}

/** The links from a run to its centre's screens, or null when there are none for this user. */
export function centreNav(ctx: Pick<AppContext, 'navigate'>, run: Run, role: string): HTMLElement | null {
  const links = centreLinks(run, role);
  if (!links.length) return null;
  return h('nav', { class: 'row-actions no-print', 'aria-label': `${t('staff.drills.centreLinks')} ${run.title}`, 'data-centre-links': run.id },
    ...links.map((l) => appLink(ctx, l.href, t(l.key), { class: 'button secondary', 'data-centre-link': l.href })));
}

/**
 * On a drill centre's screen: the link back to the run that opened it, for a user who may open drill
 * runs; null for a real centre, for a lent helper, or when no run has this centre.
 */
export async function runBackLink(ctx: Pick<AppContext, 'navigate' | 'api'>, operationId: string, role: string): Promise<HTMLElement | null> {
  if (!mayOpenRun(role)) return null;
  const found = await ctx.api.get<Run[]>(`/api/drills/runs/?operation_id=${encodeURIComponent(operationId)}`);
  const run = found[0];
  if (!run) return null;
  return h('p', { class: 'no-print', 'data-drill-run-link': run.id },
    appLink(ctx, runPath(run.id), t('staff.drills.backToRun', { title: run.title.startsWith(run.label) ? run.title : run.label + run.title }),
      { class: 'button secondary' }));
}

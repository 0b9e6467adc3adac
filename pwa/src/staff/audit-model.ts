import type { MessageKey } from '../i18n';

export interface AuditEntry {
  id: number;
  at: string;
  actor_user_id: string | null;
  actor_login: string | null;
  action: string;
  object_type: string | null;
  object_ids: string[];
  mode: 'normal' | 'disaster' | 'drill' | string;
  operation_id: string | null;
  request_id: string | null;
  client_addr: string | null;
  details: Record<string, unknown>;
}

export interface AuditPage {
  items: AuditEntry[];
  next_before_id: number | null;
}

export interface AuditActor {
  user_id: string;
  login: string | null;
  display_name: string | null;
  role: string | null;
  entries: number;
}

/** The viewer's filters as typed; dates are calendar days (YYYY-MM-DD) in Japan time. */
export interface AuditFilters {
  actorUserId: string;
  action: string;
  objectType: string;
  objectId: string;
  mode: string;
  since: string;
  until: string;
}

export const EMPTY_FILTERS: AuditFilters = { actorUserId: '', action: '', objectType: '', objectId: '', mode: '', since: '', until: '' };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The day after `day` (YYYY-MM-DD), so "until 3 May" includes all of 3 May. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return next.toISOString().slice(0, 10);
}

/**
 * `GET /api/audit` query string for the filters and cursor. Days are taken in the council's
 * time zone (JST, +09:00): `since` from the start of that day, `until` to the end of it.
 */
export function auditQuery(filters: AuditFilters, beforeId: number | null = null, limit = 50): string {
  const q = new URLSearchParams();
  if (filters.actorUserId.trim()) q.set('actor_user_id', filters.actorUserId.trim());
  if (filters.action.trim()) q.set('action', filters.action.trim());
  if (filters.objectType.trim()) q.set('object_type', filters.objectType.trim());
  if (filters.objectId.trim()) q.set('object_id', filters.objectId.trim());
  if (filters.mode) q.set('mode', filters.mode);
  if (DAY.test(filters.since)) q.set('since', `${filters.since}T00:00:00+09:00`);
  if (DAY.test(filters.until)) q.set('until', `${nextDay(filters.until)}T00:00:00+09:00`);
  if (beforeId !== null) q.set('before_id', String(beforeId));
  q.set('limit', String(limit));
  return `/api/audit?${q.toString()}`;
}

/** Readable names for the actions the server writes; unknown ones show their code. */
export const ACTION_LABEL: Record<string, MessageKey> = {
  'auth.login': 'staff.audit.action.auth.login',
  'auth.login_failed': 'staff.audit.action.auth.login_failed',
  'auth.logout': 'staff.audit.action.auth.logout',
  'auth.login_refused': 'staff.audit.action.auth.login_refused',
  'auth.temporary_password_expired': 'staff.audit.action.auth.temporary_password_expired',
  'auth.password_change': 'staff.audit.action.auth.password_change',
  'auth.password_change_failed': 'staff.audit.action.auth.password_change_failed',
  'auth.logout_everywhere': 'staff.audit.action.auth.logout_everywhere',
  'user.password_reset': 'staff.audit.action.user.password_reset',
  'user.disable': 'staff.audit.action.user.disable',
  'user.enable': 'staff.audit.action.user.enable',
  'user.logout_everywhere': 'staff.audit.action.user.logout_everywhere',
  'household.read': 'staff.audit.action.household.read',
  'person.read': 'staff.audit.action.person.read',
  'household.create': 'staff.audit.action.household.create',
  'household.update': 'staff.audit.action.household.update',
  'person.create': 'staff.audit.action.person.create',
  'person.update': 'staff.audit.action.person.update',
  'consent.update': 'staff.audit.action.consent.update',
  'plan.update': 'staff.audit.action.plan.update',
  'disaster.declare': 'staff.audit.action.disaster.declare',
  'disaster.lift': 'staff.audit.action.disaster.lift',
  'operation.create': 'staff.audit.action.operation.create',
  'operation.start': 'event.operationStarted',
  'operation.close': 'event.operationClosed',
  'visit.recorded': 'event.visitRecorded',
  'visit.export': 'staff.audit.action.visit.export',
  'import.roster': 'staff.audit.action.import.roster',
  'import.districts': 'staff.audit.action.import.districts',
  'import.hazard_zones': 'staff.audit.action.import.hazard_zones',
  'import.shelters': 'staff.audit.action.import.shelters',
  'import.dry_run': 'staff.audit.action.import.dry_run',
  'import.rejected': 'staff.audit.action.import.rejected',
  'watch_link.create': 'staff.audit.action.watch_link.create',
  'watch_link.update': 'staff.audit.action.watch_link.update',
  'watch_link.end': 'staff.audit.action.watch_link.end',
  'watch_suggestion.reject': 'staff.audit.action.watch_suggestion.reject',
  'watcher.read': 'staff.audit.action.watcher.read',
  'shelter.status': 'staff.audit.action.shelter.status',
  'user.read': 'staff.audit.action.user.read',
  'escalation.read': 'staff.audit.action.escalation.read',
  'escalation.acknowledged': 'staff.audit.action.escalation.acknowledged',
  'escalation.resolved': 'staff.audit.action.escalation.resolved',
  'escalation.assigned': 'staff.audit.action.escalation.assigned',
  'visit.read': 'staff.audit.action.visit.read',
  'visit.create': 'event.visitRecorded',
  'watch_link.read': 'staff.audit.action.watch_link.read',
  'household.delete': 'staff.audit.action.household.delete',
  'person.delete': 'staff.audit.action.person.delete',
  'district.create': 'staff.audit.action.district.create',
  'district.update': 'staff.audit.action.district.update',
  'district.delete': 'staff.audit.action.district.delete',
  'hazard_zone.create': 'staff.audit.action.hazard_zone.create',
  'hazard_zone.delete': 'staff.audit.action.hazard_zone.delete',
  'shelter.create': 'staff.audit.action.shelter.create',
  'shelter.delete': 'staff.audit.action.shelter.delete',
  'watcher.create': 'staff.audit.action.watcher.create',
  'watcher.update': 'staff.audit.action.watcher.update',
  'watcher.delete': 'staff.audit.action.watcher.delete',
  'push.test': 'staff.audit.action.push.test',
  'push.subscribe': 'staff.audit.action.push.subscribe',
  'push.unsubscribe': 'staff.audit.action.push.unsubscribe',
  'drill.start': 'staff.audit.action.drill.start',
  'drill.mark': 'staff.audit.action.drill.mark',
  'drill.archive': 'staff.audit.action.drill.archive',
  'drill.delete': 'staff.audit.action.drill.delete',
  'vc.centre.open': 'staff.audit.action.vc.centre.open',
  'vc.centre.close': 'staff.audit.action.vc.centre.close',
  'vc.need.create': 'staff.audit.action.vc.need.create',
  'vc.need.read': 'staff.audit.action.vc.need.read',
  'vc.need.update': 'staff.audit.action.vc.need.update',
  'vc.survey.create': 'staff.audit.action.vc.survey.create',
  'vc.volunteer.create': 'staff.audit.action.vc.volunteer.create',
  'vc.volunteer.read': 'staff.audit.action.vc.volunteer.read',
  'vc.volunteer.update': 'staff.audit.action.vc.volunteer.update',
  'vc.volunteer.checkin': 'staff.audit.action.vc.volunteer.checkin',
  'vc.volunteer.preregister': 'staff.audit.action.vc.volunteer.preregister',
  'vc.team.create': 'staff.audit.action.vc.team.create',
  'vc.dispatch.create': 'staff.audit.action.vc.dispatch.create',
  'vc.dispatch.injury': 'staff.audit.action.vc.dispatch.injury',
  'vc.equipment.return': 'staff.audit.action.vc.equipment.return',
  'vc.equipment.stock': 'staff.audit.action.vc.equipment.stock',
  'vc.report.create': 'staff.audit.action.vc.report.create',
  'vc.statistics.export': 'staff.audit.action.vc.statistics.export',
};

/** Readable names for the routes a read came through (`details.via`); unknown ones show their code. */
export const VIA_LABEL: Record<string, MessageKey> = {
  'rest': 'staff.audit.route.rest',
  'search': 'staff.audit.route.search',
  'events': 'staff.audit.route.events',
  'geojson': 'staff.audit.route.geojson',
  'export.csv': 'staff.audit.route.export.csv',
  'export.geojson': 'staff.audit.route.export.geojson',
  'export.visits_csv': 'staff.audit.route.export.visits_csv',
  'escalations': 'staff.audit.route.escalations',
  'console.escalations': 'staff.audit.route.console.escalations',
  'console.filter': 'staff.audit.route.console.filter',
  'console.timeline': 'staff.audit.route.console.timeline',
  'field.my_escalations': 'esc.title',
  'field.my_visits': 'staff.audit.route.field.my_visits',
  'operation.my_households': 'staff.audit.route.operation.my_households',
  'sync.pull': 'staff.audit.route.sync.pull',
  'watch.links': 'staff.audit.object.watch_link',
  'watch.pockets': 'staff.audit.route.watch.pockets',
  'watch.suggestions': 'staff.audit.route.watch.suggestions',
  'login': 'staff.audit.action.auth.login',
  'password_change': 'staff.audit.action.auth.password_change',
  'board': 'staff.audit.route.vc.board',
  'detail': 'staff.audit.route.vc.detail',
  'duplicates': 'staff.audit.route.vc.duplicates',
  'list': 'staff.audit.route.vc.list',
  'volunteer': 'staff.audit.route.vc.volunteer',
};

export const OBJECT_LABEL: Record<string, MessageKey> = {
  person: 'staff.reg.person',
  household: 'common.household',
  user: 'staff.audit.object.user',
  operation: 'staff.audit.object.operation',
  disaster_declaration: 'staff.audit.object.disaster_declaration',
  district: 'common.district',
  shelter: 'common.shelter',
  hazard_zone: 'staff.audit.object.hazard_zone',
  watcher: 'role.watcher',
  watch_link: 'staff.audit.object.watch_link',
  visit: 'staff.audit.object.visit',
  escalation: 'console.tab.escalations',
};

export const MODE_LABEL: Record<string, MessageKey> = {
  normal: 'staff.audit.mode.normal',
  disaster: 'staff.audit.mode.disaster',
  drill: 'staff.mode.drill',
};

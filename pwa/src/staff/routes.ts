import { lazyPage, type PageFactory } from '../router';

/** Staff screens (registry, imports, watch network, operations, audit, users). Lazy-loaded. */
export const staffRoutes: Record<string, PageFactory> = {
  '/staff': lazyPage(async () => (await import('./home-page')).staffHomePage),
  '/staff/imports': lazyPage(async () => (await import('./imports-page')).importsPage),
  '/staff/operations': lazyPage(async () => (await import('./operations-page')).operationsPage),
  '/staff/audit': lazyPage(async () => (await import('./audit-page')).auditPage),
  '/staff/users': lazyPage(async () => (await import('./users-page')).usersPage),
  '/staff/registry': lazyPage(async () => (await import('./registry/districts-page')).districtsPage),
  '/staff/registry/households': lazyPage(async () => (await import('./registry/households-page')).householdsPage),
  '/staff/registry/households/:id': lazyPage(async () => (await import('./registry/household-page')).householdDetailPage),
  '/staff/registry/watchers': lazyPage(async () => (await import('./registry/watchers-page')).watchersPage),
  '/staff/registry/shelters': lazyPage(async () => (await import('./registry/shelters-page')).sheltersPage),
  '/staff/registry/hazard-zones': lazyPage(async () => (await import('./registry/hazard-zones-page')).hazardZonesPage),
  '/staff/watch': lazyPage(async () => (await import('./watch-page')).watchPage),
  '/staff/drills': lazyPage(async () => (await import('./drills/drills-page')).drillsPage),
  '/staff/drills/:id': lazyPage(async () => (await import('./drills/report-page')).drillReportPage),
  '/staff/drills/:id/compare/:other': lazyPage(async () => (await import('./drills/report-page')).drillComparePage),
  '/staff/print/district/:id': lazyPage(async () => (await import('./print-page')).printDistrictPage),
};

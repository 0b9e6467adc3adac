import { lazyPage, type PageFactory } from '../router';

/**
 * The coordinator console (desktop / tablet). Pages are lazy-loaded with `lazyPage` so the
 * field app's initial bundle does not carry them (nor MapLibre, which the live map loads itself).
 */
export const consoleRoutes: Record<string, PageFactory> = {
  '/console': lazyPage(async () => (await import('./list-page')).consoleListPage),
  '/console/op/:id': lazyPage(async () => (await import('./live/page')).livePage),
  '/console/vc/:id': lazyPage(async () => (await import('./vc-page')).consoleVcPage),
};

import type { PageFactory } from '../router';

/**
 * The coordinator console (desktop / tablet). Pages are lazy-loaded with `lazyPage` so the
 * field app's initial bundle does not carry them.
 */
export const consoleRoutes: Record<string, PageFactory> = {};

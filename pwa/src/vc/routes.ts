import { lazyPage, type PageFactory } from '../router';

/** The volunteer centre (#18): the desk in the staff area and the volunteer's phone view. Lazy-loaded. */
export const vcRoutes: Record<string, PageFactory> = {
  '/staff/vc': lazyPage(async () => (await import('./desk-page')).centresPage),
  '/staff/vc/:op/:step': lazyPage(async () => (await import('./desk-page')).deskPage),
  '/staff/vc/:op/day/:day': lazyPage(async () => (await import('./daily-sheet-page')).dailySheetPage),
  '/staff/vc/:op/print/poster': lazyPage(async () => (await import('./poster-page')).posterPage),
  '/vc/join/:council/:op': lazyPage(async () => (await import('./register-page')).registerPage),
  '/vc/me': lazyPage(async () => (await import('./me-page')).mePage),
};

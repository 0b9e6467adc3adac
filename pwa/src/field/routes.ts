import { accountPage, passwordPage } from './pages/account';
import { escalationsPage } from './pages/escalations';
import { historyPage } from './pages/history';
import { homePage } from './pages/home';
import { loginPage } from './pages/login';
import { notificationTargetPage } from './pages/notification-target';
import { operationPage } from './pages/operation';
import { outboxPage } from './pages/outbox';
import { pinPage } from './pages/pin';
import type { PageFactory } from '../router';

/** The phone side: watchers and commissioners in the field. Loaded eagerly (offline first). */
export const fieldRoutes: Record<string, PageFactory> = {
  '/': homePage,
  '/login': loginPage,
  '/op/:id': operationPage,
  '/outbox': outboxPage,
  '/pin': pinPage,
  '/op/:id/h/:hid': historyPage,
  '/escalations': escalationsPage,
  '/account': accountPage,
  '/account/password': passwordPage,
  // The paths notifications open (server/push): each role's own screen for them.
  '/operations/:id': notificationTargetPage,
  '/operations/:id/escalations/:eid': notificationTargetPage,
};

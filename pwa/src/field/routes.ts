import { homePage } from '../pages/home';
import { loginPage } from '../pages/login';
import { operationPage } from '../pages/operation';
import { outboxPage } from '../pages/outbox';
import type { PageFactory } from '../router';

/** The phone side: watchers and commissioners in the field. Loaded eagerly (offline first). */
export const fieldRoutes: Record<string, PageFactory> = {
  '/': homePage,
  '/login': loginPage,
  '/op/:id': operationPage,
  '/outbox': outboxPage,
};

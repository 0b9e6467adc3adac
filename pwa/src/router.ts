import { t } from './i18n';
import type { ApiClient } from './api/client';
import type { Outbox } from './outbox/outbox';

export interface AppContext {
  api: ApiClient;
  navigate: (path: string, opts?: { replace?: boolean }) => void;
  /** The offline queue (absent in tests of pages that do not record anything). */
  outbox?: Outbox;
}

/** A mounted page. `render` is called again when the language changes. */
export interface Page {
  render(): void;
  dispose?(): void;
}

/** `params` holds the `:name` segments of a pattern route such as `/op/:id`. */
export type PageFactory = (root: HTMLElement, ctx: AppContext, params?: Record<string, string>) => Page;

/** Matches `/op/:id` against `/op/abc`; exact routes are tried first. */
export function matchRoute(
  routes: Record<string, PageFactory>,
  path: string,
): { factory: PageFactory; params: Record<string, string> } | null {
  const exact = routes[path];
  if (exact) return { factory: exact, params: {} };
  const parts = path.split('/');
  for (const [pattern, factory] of Object.entries(routes)) {
    if (!pattern.includes(':')) continue;
    const pp = pattern.split('/');
    if (pp.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pp.every((seg, i) => {
      const value = parts[i]!;
      if (seg.startsWith(':')) {
        if (!value) return false;
        params[seg.slice(1)] = decodeURIComponent(value);
        return true;
      }
      return seg === value;
    });
    if (ok) return { factory, params };
  }
  return null;
}

export interface Router {
  navigate: AppContext['navigate'];
  /** Re-renders the current page in place (language switch). */
  refresh(): void;
  start(): void;
}

export function createRouter(
  root: HTMLElement,
  routes: Record<string, PageFactory>,
  fallbackPath: string,
  api: ApiClient,
  outbox?: Outbox,
): Router {
  let current: Page | null = null;

  function show(path: string): void {
    const match = matchRoute(routes, path);
    if (!match) {
      // Unknown deep links (the SW serves index.html for any navigation) land on
      // the fallback instead of a blank page.
      navigate(fallbackPath, { replace: true });
      return;
    }
    current?.dispose?.();
    root.replaceChildren();
    current = match.factory(root, ctx, match.params);
    current.render();
    // Move focus to the new page's heading so screen readers announce the change.
    root.querySelector<HTMLElement>('h1')?.focus();
  }

  function navigate(path: string, opts: { replace?: boolean } = {}): void {
    if (location.pathname !== path) {
      if (opts.replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    show(path);
  }

  const ctx: AppContext = { api, navigate, outbox };

  return {
    navigate,
    refresh: () => current?.render(),
    start() {
      window.addEventListener('popstate', () => show(location.pathname));
      show(location.pathname);
    },
  };
}

/**
 * A route whose page module is loaded on first use (its own chunk), so screens a watcher never
 * opens (console, staff) and heavy libraries (MapLibre) stay out of the initial bundle.
 * Shows a polite loading line meanwhile; if the chunk cannot load (offline, never cached) it
 * says so instead of leaving a blank page.
 */
export function lazyPage(load: () => Promise<PageFactory>): PageFactory {
  return (root, ctx, params) => {
    let inner: Page | null = null;
    let disposed = false;
    const status = document.createElement('p');
    status.setAttribute('role', 'status');
    status.textContent = t('home.loading');
    const promise = load().then(
      (factory) => {
        if (disposed) return;
        root.replaceChildren();
        inner = factory(root, ctx, params);
        inner.render();
        root.querySelector<HTMLElement>('h1')?.focus();
      },
      (err: unknown) => {
        if (disposed) return;
        console.warn('Could not load page', err);
        status.textContent = navigator.onLine ? t('error.generic') : t('error.network');
        status.dataset['error'] = 'load';
      },
    );
    void promise;
    return {
      render() {
        if (inner) inner.render();
        else root.replaceChildren(status);
      },
      dispose() {
        disposed = true;
        inner?.dispose?.();
      },
    };
  };
}

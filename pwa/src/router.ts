import type { ApiClient } from './api/client';

export interface AppContext {
  api: ApiClient;
  navigate: (path: string, opts?: { replace?: boolean }) => void;
}

/** A mounted page. `render` is called again when the language changes. */
export interface Page {
  render(): void;
  dispose?(): void;
}

export type PageFactory = (root: HTMLElement, ctx: AppContext) => Page;

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
): Router {
  let current: Page | null = null;

  function show(path: string): void {
    const factory = routes[path];
    if (!factory) {
      // Unknown deep links (the SW serves index.html for any navigation) land on
      // the fallback instead of a blank page.
      navigate(fallbackPath, { replace: true });
      return;
    }
    current?.dispose?.();
    root.replaceChildren();
    current = factory(root, ctx);
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

  const ctx: AppContext = { api, navigate };

  return {
    navigate,
    refresh: () => current?.render(),
    start() {
      window.addEventListener('popstate', () => show(location.pathname));
      show(location.pathname);
    },
  };
}

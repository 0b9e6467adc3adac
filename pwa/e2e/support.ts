import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export interface Credential {
  login: string;
  password: string;
  role: string;
}

export interface E2EEnv {
  baseUrl: string;
  credentials: Credential[];
}

/**
 * Reads E2E_BASE_URL and E2E_CREDENTIALS. Throws (so the run FAILS, never skips)
 * when either is missing: a green e2e run that tested nothing would be a lie.
 */
export function readEnv(): E2EEnv {
  const baseUrl = process.env.E2E_BASE_URL?.replace(/\/+$/, '');
  const credPath = process.env.E2E_CREDENTIALS;
  const missing = [!baseUrl && 'E2E_BASE_URL', !credPath && 'E2E_CREDENTIALS'].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(
      `e2e: ${missing.join(' and ')} not set. Example: E2E_BASE_URL=http://127.0.0.1:8765 ` +
        `E2E_CREDENTIALS=/path/creds.json npm run test:e2e (creds: [{"login","password","role"}])`,
    );
  }
  const parsed: unknown = JSON.parse(readFileSync(credPath!, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`e2e: ${credPath} must hold a JSON list of {login,password,role}`);
  const credentials = parsed.filter(
    (c): c is Credential =>
      !!c && typeof c.login === 'string' && typeof c.password === 'string' && typeof c.role === 'string',
  );
  return { baseUrl: baseUrl!, credentials };
}

export function credentialFor(env: E2EEnv, role: string): Credential {
  const c = env.credentials.find((x) => x.role === role);
  if (!c) throw new Error(`e2e: no credential with role "${role}" in E2E_CREDENTIALS`);
  return c;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    // Debian's Chromium; Playwright must never download a browser here.
    executablePath: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
    // No outside connections from the browser (updates, sync, QUIC probes).
    args: [
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A phone-sized context in an English-locale browser: proves Japanese is our default, not the browser's. */
export async function newPhoneContext(browser: Browser, baseUrl: string): Promise<BrowserContext> {
  return browser.newContext({
    baseURL: baseUrl,
    locale: 'en-US',
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    serviceWorkers: 'allow',
  });
}

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/**
 * A signed-in API session from Node (no browser): a tiny cookie jar, and the CSRF
 * cookie echoed in X-CSRF-Token on POST — exactly what the PWA's client does.
 */
export interface ApiSession {
  get<T>(path: string): Promise<T>;
  getText(path: string): Promise<string>;
  post<T>(path: string, body: unknown): Promise<T>;
}

export async function apiSession(baseUrl: string, cred: Credential): Promise<ApiSession> {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', Cookie: cookieHeader() };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRF-Token'] = decodeURIComponent(jar.get('tonari_csrf') ?? '');
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return res;
  }
  async function ok(res: Response, what: string): Promise<Response> {
    if (!res.ok) throw new Error(`e2e: ${what} → HTTP ${res.status}: ${await res.text()}`);
    return res;
  }
  await ok(await send('GET', '/api/auth/csrf'), 'GET /api/auth/csrf');
  await ok(await send('POST', '/api/auth/login', { login: cred.login, password: cred.password }), `sign in as ${cred.role}`);
  return {
    get: async <T>(path: string) => (await (await ok(await send('GET', path), `GET ${path}`)).json()) as T,
    getText: async (path: string) => (await ok(await send('GET', path), `GET ${path}`)).text(),
    post: async <T>(path: string, body: unknown) => (await (await ok(await send('POST', path, body), `POST ${path}`)).json()) as T,
  };
}

/** Waits until a service worker is active AND controls this page (reloading once if needed). */
export async function waitForServiceWorker(page: Page): Promise<void> {
  const controlled = () =>
    page.evaluate(async () => {
      const ready = await Promise.race([
        navigator.serviceWorker.ready.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
      ]);
      if (!ready) return false;
      if (navigator.serviceWorker.controller) return true;
      return new Promise<boolean>((r) => {
        navigator.serviceWorker.addEventListener('controllerchange', () => r(true), { once: true });
        setTimeout(() => r(!!navigator.serviceWorker.controller), 5_000);
      });
    });
  if (!(await controlled())) {
    await page.reload();
    if (!(await controlled())) throw new Error('e2e: the service worker does not control the page');
  }
}

import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { landingPath } from '../src/auth/landing';

/** The seeded council's municipality code (seed/demo.py): the public VC pages are addressed by it. */
export const DEMO_COUNCIL = '08216';
/** Where the e2e tests open their drill volunteer centres (inside the demo's Kasama). */
export const VC_BASE = { lon: 140.25, lat: 36.375 };

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

/** `extraArgs`: more Chromium switches (the VC test's fake camera). */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
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
      ...extraArgs,
    ],
  });
}

/**
 * Every wait in these tests is for something the app does (a DOM state, a response, a service
 * worker event); this is only how long to keep waiting before failing. 30 s (Playwright's
 * default) is too short for a first map render or a PBKDF2 unlock on a loaded 2-core machine.
 */
export const WAIT_LIMIT_MS = 60_000;

/** A phone-sized context in an English-locale browser: proves Japanese is our default, not the browser's. */
export async function newPhoneContext(browser: Browser, baseUrl: string): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    locale: 'en-US',
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    serviceWorkers: 'allow',
  });
  context.setDefaultTimeout(WAIT_LIMIT_MS);
  return context;
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
  put<T>(path: string, body: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
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
    put: async <T>(path: string, body: unknown) => (await (await ok(await send('PUT', path, body), `PUT ${path}`)).json()) as T,
    patch: async <T>(path: string, body: unknown) => (await (await ok(await send('PATCH', path, body), `PATCH ${path}`)).json()) as T,
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
        setTimeout(() => r(!!navigator.serviceWorker.controller), 15_000); // a loaded 2-core machine is slow to claim
      });
    });
  if (!(await controlled())) {
    await page.reload();
    if (!(await controlled())) throw new Error('e2e: the service worker does not control the page');
  }
}

// ---- staff screens (issue #6) ------------------------------------------------------------

/** A desktop-sized context (staff work at a desk or on a tablet), English browser locale. */
export async function newDesktopContext(browser: Browser, baseUrl: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: baseUrl, locale: 'en-US', viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  context.setDefaultTimeout(WAIT_LIMIT_MS);
  return context;
}

/** The PIN every e2e sign-in sets (and unlocks with). */
export const E2E_PIN = '246813';

/**
 * Signs in through the login page as `cred`, then lands where the role's work is (#17): field
 * roles on `/`, where the app asks for a PIN (set it twice on the first sign-in, enter it when the
 * device already has one; answered with `pin`, default E2E_PIN); staff and admins on /staff and
 * coordinators on /console, without a PIN. Pass `{ goto: false }` when the page is already on /login.
 */
export async function signInUi(page: Page, cred: Credential, opts: { pin?: string; goto?: boolean } = {}): Promise<void> {
  if (opts.goto !== false) await page.goto('/login');
  await page.getByLabel('ログインID').fill(cred.login);
  await page.getByLabel('パスワード').fill(cred.password);
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
  const landing = landingPath(cred.role);
  if (landing !== '/') {
    await page.waitForURL((url) => url.pathname === landing);
    return;
  }
  // Either the PIN screen (set up / unlock) or, with the key still in memory, the home page.
  await page.locator('[data-pin-mode="setup"], [data-pin-mode="unlock"], [data-field="display_name"]').first().waitFor();
  await answerPin(page, opts.pin ?? E2E_PIN);
  await page.waitForURL((url) => url.pathname === '/');
}

/** Answers the PIN screen if it is showing (set-up: twice; unlock: once). Returns whether it was. */
export async function answerPin(page: Page, pin: string = E2E_PIN): Promise<boolean> {
  const screen = page.locator('[data-pin-mode]');
  if ((await screen.count()) === 0) return false;
  const mode = await screen.getAttribute('data-pin-mode');
  if (mode === 'setup') {
    await page.getByLabel('PIN（4〜6桁の数字）').fill(pin);
    await page.getByLabel('PIN（確認のためもう一度）').fill(pin);
    await page.getByRole('button', { name: 'PINを設定する' }).click();
  } else if (mode === 'unlock') {
    await page.getByLabel('PIN（暗証番号）').fill(pin);
    await page.getByRole('button', { name: '開く', exact: true }).click();
  } else {
    return false;
  }
  await screen.waitFor({ state: 'detached' });
  return true;
}

/** After a reload (the key lives only in memory): waits for the PIN screen and unlocks. */
export async function unlockWithPin(page: Page, pin: string = E2E_PIN): Promise<void> {
  await page.locator('[data-pin-mode="unlock"]').waitFor();
  await answerPin(page, pin);
}

const AXE = fileURLToPath(new URL('../node_modules/axe-core/axe.min.js', import.meta.url));

/** axe-core's WCAG 2.x A/AA violations on the current page (empty means clean). */
export async function axeViolations(page: Page): Promise<Array<{ id: string; help: string; nodes: string[] }>> {
  // Evaluated, not added as a <script>: the app's Content-Security-Policy (script-src 'self')
  // blocks inline scripts, and a test tool must not need a weaker policy than the app.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(AXE, 'utf8'));
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
}

/** axe-core finds nothing on the page (`what` names the screen in the failure message). */
export async function expectAxeClean(page: Page, what = ''): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations, `${what} ${JSON.stringify(violations, null, 1)}`.trim()).toEqual([]);
}

/**
 * Every visible control (button, input, select, textarea, link) is at least 48×48 CSS px (WCAG
 * 2.5.8 and our own bar). A checkbox or radio counts with its label: the label is what a finger taps.
 */
export async function expectTapTargets(page: Page, what = ''): Promise<void> {
  const small = await page.$$eval('button, input, select, textarea, a[href]', (els) =>
    els
      .map((el) => {
        let r = el.getBoundingClientRect();
        const input = el as HTMLInputElement;
        if (el.tagName === 'INPUT' && (input.type === 'checkbox' || input.type === 'radio') && input.labels?.[0]) {
          const l = input.labels[0].getBoundingClientRect();
          const left = Math.min(r.left, l.left);
          const top = Math.min(r.top, l.top);
          r = new DOMRect(left, top, Math.max(r.right, l.right) - left, Math.max(r.bottom, l.bottom) - top);
        }
        return { el, r };
      })
      .filter(({ el, r }) => r.width > 0 && getComputedStyle(el).visibility !== 'hidden' && (r.height < 48 || r.width < 48))
      .map(({ el, r }) => `${el.tagName}#${el.id || (el.textContent ?? '').trim().slice(0, 30)} ${Math.round(r.width)}×${Math.round(r.height)}`),
  );
  expect(small, what).toEqual([]);
}

/** At double text size the page reflows instead of scrolling sideways (WCAG 1.4.4 / 1.4.10). */
export async function expectReflowAtDoubleText(page: Page, name: string): Promise<void> {
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '225%'; // 2 × our 112.5 %
  });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await shot(page, name);
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });
  expect(overflow, `${name} scrolls sideways at 200 % text`).toBeLessThanOrEqual(0);
}

/** One screen as accessible as the rest: axe-clean, 48 px targets, no sideways scroll at 200 % text. */
export async function expectAccessibleScreen(page: Page, name: string): Promise<void> {
  await expectAxeClean(page, name);
  await expectTapTargets(page, name);
  await shot(page, name);
  await expectReflowAtDoubleText(page, `${name}-200pct`);
}

export interface BrowserSuite {
  env: E2EEnv;
  browser: Browser;
  /** Call first in each test: a missing environment FAILS the test (never skips it). */
  ready(): void;
}

/**
 * One browser for the test file: reads the environment and launches Chromium before the tests
 * (`extra` reads more set-up, e.g. a server to control), closes it after. Set-up errors are kept
 * and thrown by `ready()` so that each test fails with the reason.
 */
export function useBrowser(extra?: () => void): BrowserSuite {
  let setupError: unknown = null;
  const suite = {
    ready(): void {
      if (setupError) throw setupError;
    },
  } as BrowserSuite;
  beforeAll(async () => {
    try {
      suite.env = readEnv();
      extra?.();
      suite.browser = await launchBrowser();
    } catch (err) {
      setupError = err;
    }
  });
  afterAll(async () => {
    await suite.browser?.close();
  });
  return suite;
}

export interface DesktopSuite {
  env: E2EEnv;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  api: ApiSession;
}

/** A desktop page signed in (UI and API) as `role` for the whole test file. */
export function useSignedInDesktop(role: string): DesktopSuite {
  const suite = {} as DesktopSuite;
  beforeAll(async () => {
    suite.env = readEnv();
    suite.browser = await launchBrowser();
    suite.context = await newDesktopContext(suite.browser, suite.env.baseUrl);
    suite.page = await suite.context.newPage();
    await signInUi(suite.page, credentialFor(suite.env, role));
    suite.api = await apiSession(suite.env.baseUrl, credentialFor(suite.env, role));
  });
  afterAll(async () => {
    await suite.context?.close();
    await suite.browser?.close();
  });
  return suite;
}

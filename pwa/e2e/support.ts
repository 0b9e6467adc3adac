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

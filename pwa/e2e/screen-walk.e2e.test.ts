// Every screen of the PWA as every demo role, in a real browser: each one ends in its own content,
// a polite refusal or a redirect — never a server error (5xx), an uncaught exception, a console
// error of the app's own, or a screen stuck on 読み込んでいます…; and axe is clean on each screen
// the first time a role may open it. The roles come from the seeded logins, so a role added to the
// demo is walked too.
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerPin,
  type ApiSession,
  apiSession,
  axeViolations,
  type Credential,
  credentialFor,
  DEMO_COUNCIL,
  type E2EEnv,
  newDesktopContext,
  signInUi,
  useBrowser,
  VC_BASE,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
beforeAll(() => {
  suite.ready();
  env = suite.env;
});

const LOADING = '読み込んでいます…';
const TILE_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const DESK_STEPS = ['board', 'map', 'intake', 'reception', 'teams', 'matching', 'dispatch', 'stats'];

interface Ids {
  op: string;
  household: string;
  escalation: string | null;
  district: string;
  run: string | null;
  otherRun: string | null;
  centre: string;
  day: string;
}

/** The ids the parameterised screens need: the demo's past drill, one of its households and
 * escalations, a district, drill runs if any exist, and a drill volunteer centre (opened here
 * when the demo has none). */
async function findIds(staff: ApiSession): Promise<Ids> {
  const ops = await staff.get<Array<{ id: string; name: string; kind: string }>>('/api/operations');
  const past = ops.find((o) => o.name.includes('デモの過去の訓練'));
  expect(past, 'the demo past drill').toBeTruthy();
  const escalations = await staff.get<Array<{ id: string }>>(`/api/console/operations/${past!.id}/escalations`);
  const households = await staff.get<{ items: Array<{ id: string }> }>('/api/households?limit=1');
  const districts = await staff.get<Array<{ id: string; level: string }>>('/api/districts');
  const runs = await staff.get<Array<{ id: string }>>('/api/drills/runs');
  let centres = await staff.get<Array<{ operation_id: string; status: string }>>('/api/vc/centres/');
  if (!centres.some((c) => c.status === 'active')) {
    await staff.post('/api/vc/centres/', { mode: 'drill', name: 'E2E 画面巡回の災害VC', ...VC_BASE });
    centres = await staff.get<Array<{ operation_id: string; status: string }>>('/api/vc/centres/');
  }
  const centre = centres.find((c) => c.status === 'active')!;
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date());
  return {
    op: past!.id,
    household: households.items[0]!.id,
    escalation: escalations[0]?.id ?? null,
    district: districts.find((d) => d.level === 'branch')?.id ?? districts[0]!.id,
    run: runs[0]?.id ?? null,
    otherRun: runs[1]?.id ?? null,
    centre: centre.operation_id,
    day,
  };
}

function screens(ids: Ids): string[] {
  const list = [
    '/', '/outbox', '/escalations', '/account', '/account/password',
    `/op/${ids.op}`, `/op/${ids.op}/h/${ids.household}`, `/operations/${ids.op}`,
    '/console', `/console/op/${ids.op}`, `/console/vc/${ids.centre}`,
    '/staff', '/staff/imports', '/staff/operations', '/staff/audit', '/staff/users',
    '/staff/registry', '/staff/registry/households', `/staff/registry/households/${ids.household}`,
    '/staff/registry/watchers', '/staff/registry/shelters', '/staff/registry/hazard-zones',
    '/staff/watch', '/staff/drills', `/staff/print/district/${ids.district}`,
    '/staff/vc', ...DESK_STEPS.map((s) => `/staff/vc/${ids.centre}/${s}`), `/staff/vc/${ids.centre}/day/${ids.day}`,
    `/vc/join/${DEMO_COUNCIL}/${ids.centre}`, '/vc/me',
  ];
  if (ids.escalation) list.push(`/operations/${ids.op}/escalations/${ids.escalation}`);
  if (ids.run) list.push(`/staff/drills/${ids.run}`);
  if (ids.run && ids.otherRun) list.push(`/staff/drills/${ids.run}/compare/${ids.otherRun}`);
  return list;
}

/** A role's everyday screens: each must open in full for it (its own content, no refusal). */
const MUST_OPEN: Record<string, (ids: Ids) => string[]> = {
  admin: (ids) => ['/staff', '/staff/users', '/staff/audit', '/staff/drills', '/staff/vc', `/console/op/${ids.op}`],
  staff: (ids) => ['/staff', '/staff/registry', '/staff/operations', '/staff/drills', '/staff/vc', `/console/op/${ids.op}`],
  coordinator: (ids) => ['/console', `/console/op/${ids.op}`, `/console/vc/${ids.centre}`, '/staff/watch', '/staff/drills'],
  commissioner: (ids) => ['/', '/escalations', '/console', `/console/op/${ids.op}`, `/op/${ids.op}`],
  watcher: (ids) => ['/', '/escalations', `/op/${ids.op}`],
  vc_volunteer: () => ['/vc/me'],
  vc_desk: (ids) => ['/staff/vc', `/staff/vc/${ids.centre}/board`, `/staff/vc/${ids.centre}/reception`],
};

interface Trouble {
  errors: string[];
}

/** What went wrong on the page since the last reset: 5xx answers, uncaught exceptions, and the
 * app's own console errors (a refused API call's "Failed to load resource" line is the browser's
 * note of a 4xx the screen shows in words, so it is not one). */
function watch(context: BrowserContext, page: Page): Trouble {
  const t: Trouble = { errors: [] };
  context.on('response', (r) => {
    if (r.status() >= 500) t.errors.push(`HTTP ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  page.on('pageerror', (e) => t.errors.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) t.errors.push(`console: ${m.text()}`);
  });
  return t;
}

/** The page settled: a heading is drawn and nothing says 読み込んでいます… any more. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction((loading) => {
    const h1 = document.querySelector('h1');
    if (!h1 || !h1.textContent?.trim()) return false;
    return ![...document.querySelectorAll('[role="status"], p, span')].some((e) => e.textContent?.trim() === loading);
  }, LOADING);
}

describe('every screen as every role', () => {
  it('ends in content, a refusal or a redirect; no 5xx, exception or console error; axe clean', async () => {
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const ids = await findIds(staff);
    const roles = [...new Map(env.credentials.map((c) => [c.role, c] as [string, Credential])).values()];
    expect(roles.length).toBeGreaterThanOrEqual(5);
    const axeDone = new Set<string>();
    const problems: string[] = [];
    let visits = 0;
    for (const cred of roles) {
      const context = await newDesktopContext(suite.browser, env.baseUrl);
      // The base map's tiles: answered here, so the browser makes no outside connection.
      await context.route(/^https?:\/\/(?!127\.0\.0\.1)[^/]+\/.*$/, (route) =>
        route.fulfill({ status: 200, contentType: 'image/png', body: TILE_PNG, headers: { 'Access-Control-Allow-Origin': '*' } }));
      try {
        const page = await context.newPage();
        const trouble = watch(context, page);
        await signInUi(page, cred);
        for (const path of screens(ids)) {
          trouble.errors.length = 0;
          await page.goto(path);
          await settled(page);
          if (new URL(page.url()).pathname === '/pin') {
            // The field app's key: set up (a desk role's first field screen) or locked after a
            // fresh load. Answered, the app goes on to the screen asked for.
            await answerPin(page);
            await page.waitForURL((url) => url.pathname !== '/pin');
            await settled(page);
          }
          visits += 1;
          const where = `${cred.role} ${path} → ${new URL(page.url()).pathname}`;
          for (const e of trouble.errors) problems.push(`${where}: ${e}`);
          const landed = new URL(page.url()).pathname;
          const refused = (await page.locator('[role="alert"]').count()) > 0;
          if ((MUST_OPEN[cred.role]?.(ids) ?? []).includes(path) && (landed !== path || refused)) {
            problems.push(`${where}: not open to ${cred.role} (${refused ? await page.locator('[role="alert"]').first().textContent() : 'redirected'})`);
          }
          if (landed === path && !refused && !axeDone.has(path)) {
            axeDone.add(path);
            for (const v of await axeViolations(page)) problems.push(`${where}: axe ${v.id} (${v.help}) ${v.nodes.join(' | ')}`);
          }
        }
      } finally {
        await context.close();
      }
    }
    expect(problems).toEqual([]);
    expect(visits).toBeGreaterThanOrEqual(roles.length * 30);
    // Each screen was seen in full by at least one role (not all refused or redirected).
    expect(axeDone.size).toBeGreaterThanOrEqual(28);
  });
});

// "Field data is never lost" under failure (issue #5): 50 visits queued offline reach the server
// exactly once — (a) when the server is killed and restarted mid-sync, (b) through a proxy that
// answers 500 for a while (the first push even reaches the server and commits before its answer
// is replaced by a 500) — and (c) a 409 conflict lands in the visible conflict list.
// Exactly once is checked in the database: one visit row per client id the device queued.
import type { Browser, Page, Request } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  auxPort,
  dbRows,
  FlakyProxy,
  queuedClientIds,
  readServerEnv,
  recordVisits,
  ServerProcess,
  startDrill,
  unlockIfAsked,
  waitForCount,
  type ServerEnv,
} from './field-kit';
import {
  apiSession,
  axeViolations,
  credentialFor,
  type E2EEnv,
  newPhoneContext,
  shot,
  signInUi,
  useBrowser,
  waitForServiceWorker,
} from './support';

const TOTAL = 50;

let serverEnv: ServerEnv;
const suite = useBrowser(() => {
  serverEnv = readServerEnv();
});
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

/** Visits on the server for an operation: client id → rows with it. */
function serverVisits(opId: string): Map<string, number> {
  const rows = dbRows(serverEnv, 'SELECT client_id::text AS client_id, count(*)::int AS n FROM visit WHERE operation_id = $1::uuid GROUP BY client_id', [opId]);
  return new Map(rows.map((r) => [String(r['client_id']), Number(r['n'])]));
}

function expectExactlyOnce(opId: string, queued: string[]): void {
  const onServer = serverVisits(opId);
  expect(queued).toHaveLength(TOTAL);
  expect(new Set(queued).size).toBe(TOTAL);
  expect([...onServer.keys()].sort()).toEqual([...queued].sort());
  expect([...onServer.values()].every((n) => n === 1)).toBe(true);
}

/** Signs in at `origin`, opens the drill, goes offline and records TOTAL visits. Returns their client ids. */
async function queueOffline(page: Page, opId: string): Promise<string[]> {
  await signInUi(page, credentialFor(env, 'watcher'));
  await unlockIfAsked(page, '[data-field="display_name"]');
  await page.goto(`/op/${opId}`);
  await unlockIfAsked(page, '[data-household]');
  await page.locator('[data-household]').first().waitFor();
  await waitForCount(page, 0);
  await waitForServiceWorker(page);
  await page.context().setOffline(true);
  await recordVisits(page, TOTAL);
  const queued = await queuedClientIds(page);
  expect(queued).toHaveLength(TOTAL);
  return queued;
}

describe('sync resilience', () => {
  it(`(a) ${TOTAL} visits reach the server exactly once when it is killed and restarted mid-sync`, async () => {
    suite.ready();
    const server = new ServerProcess(serverEnv, auxPort(env.baseUrl));
    await server.start();
    const { op } = await startDrill(env, 'E2E再起動', server.url);
    const context = await newPhoneContext(browser, server.url);
    const page = await context.newPage();
    try {
      const queued = await queueOffline(page, op.id);

      // Online again: kill the server (SIGKILL, whole process group) the moment the first
      // push is on the wire, so that batch is cut off mid-request.
      let pushes = 0;
      let killed: Promise<void> | null = null;
      const onRequest = (req: Request) => {
        if (!req.url().includes('/api/sync/push')) return;
        pushes++;
        if (pushes === 1) killed = server.kill();
      };
      page.on('request', onRequest);
      // The first push on the wire is the signal (onRequest, registered first, has killed by then).
      const firstPush = page.waitForRequest((req) => req.url().includes('/api/sync/push'));
      await context.setOffline(false);
      await firstPush;
      expect(killed, 'a push was started').not.toBeNull();
      await killed;
      // While it is down nothing is lost: everything is still queued (or in flight).
      const during = await queuedClientIds(page);
      expect(during.length).toBeGreaterThan(0);

      await server.start();
      // The app retries on its own (backoff / timer): no reload, no tap.
      await waitForCount(page, 0, 120_000);
      page.off('request', onRequest);
      expect(pushes).toBeGreaterThan(1);
      expect(await queuedClientIds(page)).toEqual([]);
      await shot(page, '50-synced-after-restart');
      expectExactlyOnce(op.id, queued);
    } catch (err) {
      console.error(`own server log:\n${server.log.slice(-3000)}`);
      throw err;
    } finally {
      await context.close();
      await server.kill();
    }
  }, 300_000); // a restart and the app's own backoff (no tap, no reload) take a while

  it(`(b) ${TOTAL} visits reach the server exactly once through a proxy that answers 500 for a while`, async () => {
    suite.ready();
    // The first push is forwarded (the server commits it) but the phone gets a 500 instead;
    // the next three pushes get a 500 without reaching the server; then everything passes.
    let pushNo = 0;
    const proxy = new FlakyProxy(env.baseUrl, auxPort(env.baseUrl), (req) => {
      if (!req.url?.startsWith('/api/sync/push') || req.method !== 'POST') return 'pass';
      pushNo++;
      if (pushNo === 1) return 'forward-then-fail';
      return pushNo <= 4 ? 'fail' : 'pass';
    });
    await proxy.start();
    const { op } = await startDrill(env, 'E2E500', env.baseUrl);
    const context = await newPhoneContext(browser, proxy.url);
    const page = await context.newPage();
    try {
      const queued = await queueOffline(page, op.id);
      await context.setOffline(false);
      await waitForCount(page, 0, 240_000);
      expect(proxy.pushes.failed).toBe(4);
      expect(proxy.pushes.passed).toBeGreaterThanOrEqual(1);
      // The first (committed, answered 500) batch was sent again: the server said "duplicate".
      expectExactlyOnce(op.id, queued);
      expect(await page.locator('[data-outbox-check]:not([hidden])').count()).toBe(0);
      await shot(page, '51-synced-through-500s');
    } finally {
      await context.close();
      await proxy.stop();
    }
  }, 300_000); // four failed pushes put the queue into exponential backoff (2 s, 4 s, 8 s, 16 s …)

  it('(c) a 409 conflict shows in the conflict list', async () => {
    suite.ready();
    const { op } = await startDrill(env, 'E2E競合');
    const context = await newPhoneContext(browser, env.baseUrl);
    const page = await context.newPage();
    try {
      await signInUi(page, credentialFor(env, 'watcher'));
      await unlockIfAsked(page, '[data-field="display_name"]');
      await page.goto(`/op/${op.id}`);
      await unlockIfAsked(page, '[data-household]');
      const first = page.locator('[data-household]').first();
      await first.waitFor();
      const hh = (await first.getAttribute('data-household'))!;
      await waitForCount(page, 0);
      await context.setOffline(true);
      await first.click();
      await page.locator(`[data-household-panel="${hh}"] [data-outcome="safe"]`).click();
      await waitForCount(page, 1);
      const [clientId] = await queuedClientIds(page);

      // Meanwhile the same client id reached the server with different content (another
      // device's bug, a restored backup…): the phone's copy must not be silently dropped.
      const watcher = await apiSession(env.baseUrl, credentialFor(env, 'watcher'));
      await watcher.post(`/api/operations/${op.id}/visits`, {
        client_id: clientId,
        household_id: hh,
        outcome: 'injured',
        device_time: new Date().toISOString(),
      });

      await context.setOffline(false);
      const check = page.locator('[data-outbox-check]:not([hidden])');
      await check.waitFor();
      await expect(check.textContent()).resolves.toBe('要確認 1件');
      await waitForCount(page, 0);
      await check.click();
      await page.waitForURL('**/outbox');
      const list = page.locator('[data-conflicts]');
      await list.waitFor();
      await expect(list.textContent()).resolves.toContain('内容が食い違う記録（要確認）');
      await expect(list.locator('li').first().textContent()).resolves.toContain('無事');
      expect(await list.locator('li').count()).toBe(1);
      // Kept on the device (exportable), and the server kept its own version only.
      expect(await queuedClientIds(page)).toEqual([clientId]);
      const onServer = dbRows(serverEnv, 'SELECT outcome FROM visit WHERE client_id = $1::uuid', [clientId!]);
      expect(onServer).toEqual([{ outcome: 'injured' }]);
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '52-conflict-list');
    } finally {
      await context.close();
    }
  });
});

// The PIN guards the data at rest: after a reload offline the app asks for the PIN before it
// shows anything personal; a wrong PIN says how many tries are left; the right one shows the list.
import type { Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiSession,
  axeViolations,
  credentialFor,
  E2E_PIN,
  type E2EEnv,
  newPhoneContext,
  shot,
  signInUi,
  useBrowser,
  waitForServiceWorker,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

describe('PIN at rest', () => {
  it('offline after a reload: asks for the PIN, counts a wrong one, and the right one shows my households', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const districts = await staff.get<Array<{ id: string }>>('/api/districts');
    const op = await staff.post<{ id: string }>('/api/operations', {
      kind: 'safety_check', mode: 'drill', name: 'PIN訓練', district_ids: districts.map((d) => d.id), start: true,
    });
    const context = await newPhoneContext(browser, env.baseUrl);
    const page = await context.newPage();
    try {
      await signInUi(page, credentialFor(env, 'watcher'));
      await page.goto(`/op/${op.id}`);
      await page.locator('[data-pin-mode="unlock"]').waitFor();
      // The service worker must control the page before it goes offline. Waited for here, before
      // unlocking: when it is slow to take control the helper reloads the page, and a reload
      // locks the vault again (that is what this test is about).
      await waitForServiceWorker(page);
      // A reload of the PIN screen itself (the worker taking over, a phone restoring a killed
      // tab) must not lose where the user was going: the deep link to the operation survives.
      expect(new URL(page.url()).pathname).toBe('/pin');
      await page.reload();
      await page.locator('[data-pin-mode="unlock"]').waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await page.getByLabel('PIN（暗証番号）').fill(E2E_PIN);
      await page.getByRole('button', { name: '開く', exact: true }).click();
      const households = page.locator('[data-household]');
      await households.first().waitFor();
      expect(new URL(page.url()).pathname).toBe(`/op/${op.id}`);
      const names = await households.allTextContents();
      expect(names.length).toBeGreaterThan(0);
      const firstName = (await page.locator('[data-household] .hh-name').first().textContent())!.trim();
      expect(firstName.length).toBeGreaterThan(0);

      // What IndexedDB holds is ciphertext: no household name or address in it.
      const stored = await page.evaluate(async () => {
        const open = indexedDB.open('tonari');
        const db = await new Promise<IDBDatabase>((res, rej) => {
          open.onsuccess = () => res(open.result);
          open.onerror = () => rej(open.error);
        });
        const rows = await new Promise<unknown[]>((res, rej) => {
          const req = db.transaction('cache').objectStore('cache').getAll();
          req.onsuccess = () => res(req.result);
          req.onerror = () => rej(req.error);
        });
        db.close();
        const dec = new TextDecoder();
        return rows
          .map((r) => {
            const v = (r as { value: { ct?: ArrayBuffer } }).value;
            return JSON.stringify(r) + (v?.ct ? dec.decode(v.ct) : '');
          })
          .join('\n');
      });
      expect(stored.length).toBeGreaterThan(0);
      expect(stored).not.toContain(firstName);

      // Offline, reload: the PIN screen, not the list.
      await context.setOffline(true);
      await page.reload();
      const unlock = page.locator('[data-pin-mode="unlock"]');
      await unlock.waitFor();
      expect(await page.locator('[data-household]').count()).toBe(0);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('PINの入力');

      // A wrong PIN: tries left are shown, nothing opens.
      await page.getByLabel('PIN（暗証番号）').fill('000000'); // not E2E_PIN
      await page.getByRole('button', { name: '開く', exact: true }).click();
      const error = page.locator('[data-pin-error]');
      await error.waitFor();
      expect(await error.textContent()).toContain('あと4回');
      expect(await error.getAttribute('role')).toBe('alert');
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '30-pin-wrong-offline');

      // The right PIN: my households, offline, from the sealed cache.
      await page.getByLabel('PIN（暗証番号）').fill(E2E_PIN);
      await page.getByRole('button', { name: '開く', exact: true }).click();
      await households.first().waitFor();
      expect(page.url()).toMatch(new RegExp(`/op/${op.id}$`));
      expect(await households.allTextContents()).toEqual(names);
      await page.locator('[data-offline]').waitFor();
      expect(await page.locator('[data-age]').textContent()).toMatch(/前の情報|たった今の情報/);
      await shot(page, '31-pin-unlocked-offline');
    } finally {
      await context.close();
    }
  });

  it('history of a household and my escalations: note, shelter, sent / unsent, and the coordinator\'s handling', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const districts = await staff.get<Array<{ id: string }>>('/api/districts');
    const op = await staff.post<{ id: string }>('/api/operations', {
      kind: 'safety_check', mode: 'drill', name: '履歴訓練', district_ids: districts.map((d) => d.id), start: true,
    });
    const shelters = await staff.get<Array<{ id: string; name: string; is_open: boolean }>>('/api/shelters');
    const context = await newPhoneContext(browser, env.baseUrl);
    const page = await context.newPage();
    try {
      await signInUi(page, credentialFor(env, 'watcher'));
      await page.goto(`/op/${op.id}`);
      await page.locator('[data-pin-mode="unlock"]').waitFor();
      await page.getByLabel('PIN（暗証番号）').fill(E2E_PIN);
      await page.getByRole('button', { name: '開く', exact: true }).click();
      const first = page.locator('[data-household]').first();
      await first.waitFor();
      const hh = (await first.getAttribute('data-household'))!;
      await first.click();
      const panel = page.locator(`[data-household-panel="${hh}"]`);

      // 要救助 with a note (raises an escalation), sent online.
      await panel.getByLabel('メモ（任意）').fill('家具の下敷き');
      await panel.locator('[data-outcome="rescue"]').click();
      await page.waitForFunction(() => document.querySelector('[data-outbox-count]')?.textContent === '未送信 0件');

      // 避難済: the shelter picker, nearest open first; recorded offline, so it shows as unsent.
      await context.setOffline(true);
      await panel.locator('[data-outcome="evacuated"]').click();
      const picker = panel.locator('[data-shelter-picker]');
      await picker.waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '32-shelter-picker');
      const choice = picker.locator('[data-shelter]').first();
      const shelterId = await choice.getAttribute('data-shelter');
      const shelterName = shelters.find((x) => x.id === shelterId)?.name;
      if (shelters.some((x) => x.is_open)) expect(shelters.find((x) => x.id === shelterId)?.is_open).toBe(true);
      await choice.click();
      await page.waitForFunction(() => document.querySelector('[data-outbox-count]')?.textContent === '未送信 1件');

      // History: the device's unsent record and the server's sent one, newest first (still offline:
      // a moment online in between let the outbox send it first on a quick run).
      await panel.locator(`[data-history-link="${hh}"]`).click();
      await page.waitForURL((url) => url.pathname === `/op/${op.id}/h/${hh}`);
      const items = page.locator('[data-history-item]');
      await items.first().waitFor();
      expect(await items.first().locator('[data-sent]').textContent()).toBe('未送信');
      expect(await items.first().locator('[data-outcome]').textContent()).toBe('避難済');
      if (shelterName) expect(await items.first().textContent()).toContain(shelterName);
      await context.setOffline(false);
      await page.waitForFunction(() => document.querySelector('[data-outbox-count]')?.textContent === '未送信 0件');
      await page.reload();
      await page.locator('[data-pin-mode="unlock"]').waitFor();
      await page.getByLabel('PIN（暗証番号）').fill(E2E_PIN);
      await page.getByRole('button', { name: '開く', exact: true }).click();
      await page.waitForURL((url) => url.pathname === `/op/${op.id}/h/${hh}`);
      // The history spans operations (other tests' visits may be there too): ours are the 履歴訓練 ones.
      const ours = items.filter({ has: page.locator('[data-op-name]', { hasText: '【訓練】履歴訓練' }) });
      // Both were sent before the reload: once the page has its answer from the server (no longer
      // aria-busy), both are marked sent.
      await page.locator('section.history:not([aria-busy])').waitFor();
      expect(await ours.locator('[data-sent="sent"]').count()).toBe(2);
      const texts = await ours.allTextContents();
      expect(texts).toHaveLength(2);
      expect(texts[0]).toContain('避難済');
      expect(texts[1]).toContain('要救助');
      expect(texts[1]).toContain('家具の下敷き');
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '33-history');

      // My escalations: open, then acknowledged by the council with a note.
      await page.goto('/escalations');
      await page.locator('[data-pin-mode="unlock"]').waitFor();
      await page.getByLabel('PIN（暗証番号）').fill(E2E_PIN);
      await page.getByRole('button', { name: '開く', exact: true }).click();
      await page.waitForURL((url) => url.pathname === '/escalations');
      // Other tests' drills may raise escalations for the same watcher: ours is the 履歴訓練 one.
      const esc = page.locator('[data-escalation]').filter({ hasText: '【訓練】履歴訓練' }).first();
      await esc.waitFor();
      expect(await esc.locator('[data-state]').textContent()).toBe('未対応');
      expect(await esc.textContent()).toContain('【訓練】履歴訓練');
      const escId = (await esc.getAttribute('data-escalation'))!;
      await staff.post(`/api/escalations/${escId}/acknowledge`, { note: '職員が向かいます' });
      await page.reload();
      await page.locator('[data-pin-mode="unlock"]').waitFor();
      await page.getByLabel('PIN（暗証番号）').fill(E2E_PIN);
      await page.getByRole('button', { name: '開く', exact: true }).click();
      await page.locator(`[data-escalation="${escId}"][data-esc-status="acknowledged"]`).waitFor();
      expect(await page.locator(`[data-escalation="${escId}"] [data-esc-notes]`).textContent()).toContain('職員が向かいます');
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '34-my-escalations');
    } finally {
      await context.close();
    }
  });
});

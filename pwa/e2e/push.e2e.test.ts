/**
 * Web Push end to end (#17): a 要救助 visit makes the server send a push to a subscription, the
 * service worker shows it, and a tap opens the escalation's screen in the open window.
 *
 * Playwright's Chromium cannot subscribe at a real push service (STACK-NOTES), so the chain is:
 * the coordinator's browser registers a subscription whose endpoint is a push service in this test
 * (it verifies the VAPID signature and decrypts the aes128gcm body with keys made here, as a
 * browser would); the server's real send reaches it after the visit commits; the decrypted
 * payload is delivered to the page's service worker through the DevTools protocol
 * (`ServiceWorker.deliverPushMessage`), which shows it; `notificationclick` is dispatched in the
 * worker, and the page must end on the coordinator's console of that operation.
 */
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/outbox/uuid';
import { startDrill, unlockIfAsked } from './field-kit';
import { apiSession, credentialFor, newDesktopContext, signInUi, useBrowser, waitForServiceWorker, WAIT_LIMIT_MS } from './support';

const b64url = (b: Buffer) => b.toString('base64url');

/** A push service on 127.0.0.1 that accepts pushes for one browser key pair and decrypts them. */
class LocalPushService {
  readonly ecdh = createECDH('prime256v1');
  readonly auth = randomBytes(16);
  readonly received: { payload: string; vapidKey: string; urgency: string | undefined }[] = [];
  readonly errors: string[] = [];
  private waiters: (() => void)[] = [];
  private server: Server | null = null;
  origin = '';

  constructor() {
    this.ecdh.generateKeys();
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const vapidKey = this.verifyVapid(String(req.headers['authorization'] ?? ''));
          if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('not aes128gcm');
          this.received.push({ payload: this.decrypt(Buffer.concat(chunks)), vapidKey, urgency: req.headers['urgency'] as string | undefined });
          res.writeHead(201).end();
        } catch (err) {
          this.errors.push(String(err));
          res.writeHead(400).end();
        }
        for (const w of this.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** What `PushSubscription.toJSON()` would give for this browser. */
  subscription(): unknown {
    return { endpoint: `${this.origin}/push/${b64url(randomBytes(12))}`, expirationTime: null,
      keys: { p256dh: b64url(this.ecdh.getPublicKey()), auth: b64url(this.auth) } };
  }

  /** Resolves when `n` pushes (or failures) arrived: the push service's own signal. */
  async waitFor(n: number): Promise<void> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (this.received.length + this.errors.length < n) {
      if (Date.now() > deadline) throw new Error(`e2e: ${this.received.length} pushes arrived, waited for ${n}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  }

  /** RFC 8292: `vapid t=<JWT>, k=<key>`, ES256 over the JWT by k, aud = this origin, exp ahead. */
  private verifyVapid(header: string): string {
    const m = /^vapid t=([^,]+),\s*k=(\S+)$/i.exec(header);
    if (!m) throw new Error(`no VAPID authorization: ${header.slice(0, 20)}`);
    const [h, c, s] = m[1]!.split('.') as [string, string, string];
    const raw = Buffer.from(m[2]!, 'base64url');
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(raw.subarray(1, 33)), y: b64url(raw.subarray(33, 65)) }, format: 'jwk' });
    if (!verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) throw new Error('bad VAPID signature');
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as { aud: string; exp: number };
    if (claims.aud !== this.origin || claims.exp * 1000 < Date.now()) throw new Error(`bad VAPID claims ${JSON.stringify(claims)}`);
    return m[2]!;
  }

  /** RFC 8291/8188 aes128gcm, one record. */
  private decrypt(body: Buffer): string {
    const salt = body.subarray(0, 16);
    const idlen = body[20]!;
    const serverKey = body.subarray(21, 21 + idlen);
    const ct = body.subarray(21 + idlen);
    const shared = this.ecdh.computeSecret(serverKey);
    const info = Buffer.concat([Buffer.from('WebPush: info\0'), this.ecdh.getPublicKey(), serverKey]);
    const ikm = Buffer.from(hkdfSync('sha256', shared, this.auth, info, 32));
    const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const d = createDecipheriv('aes-128-gcm', cek, nonce);
    d.setAuthTag(ct.subarray(ct.length - 16));
    const plain = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--; // padding, then the 0x02 delimiter
    return plain.subarray(0, end).toString('utf8');
  }
}

describe('Web Push from a 要救助 visit to the coordinator’s screen', () => {
  const suite = useBrowser();
  const push = new LocalPushService();
  afterAll(() => push.stop());

  it('the server pushes once, the service worker shows 【訓練】, and a tap opens the escalation', async () => {
    suite.ready();
    const { env, browser } = suite;
    await push.start();
    const context = await newDesktopContext(browser, env.baseUrl);
    try {
      await context.grantPermissions(['notifications'], { origin: env.baseUrl });
      const page = await context.newPage();
      await signInUi(page, credentialFor(env, 'coordinator'));
      await waitForServiceWorker(page);
      // A coordinator lands on the console (#17), which makes the same offer; this test follows
      // the field home, where the account's notification switch also lives.
      await page.goto(`${env.baseUrl}/`);
      await unlockIfAsked(page, '[data-push-offer] section');

      // After sign-in (not on first paint) the app explains notifications once; "not now" is kept.
      const offer = page.locator('[data-push-offer] section');
      await offer.getByRole('button', { name: '通知を受け取る' }).waitFor();
      await offer.getByRole('button', { name: '今はしない' }).click();
      await page.locator('[data-push-offer] [role="status"]').waitFor();
      await page.reload();
      await unlockIfAsked(page, '[data-field="display_name"]');
      await page.locator('[data-field="display_name"]').waitFor();

      // This browser's subscription, registered by the signed-in page (its session, its CSRF).
      const sub = push.subscription();
      const status = await page.evaluate(async (body) => {
        const csrf = decodeURIComponent(document.cookie.split('; ').find((c) => c.startsWith('tonari_csrf='))?.split('=')[1] ?? '');
        const r = await fetch('/api/push/subscriptions', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(body) });
        return r.status;
      }, sub);
      expect(status).toBe(201);
      expect(await page.locator('[data-push-offer] section').count()).toBe(0);

      // A watcher reports 要救助 in a drill: the escalation's push is written with the visit.
      const { op } = await startDrill(env, 'Web Push 訓練');
      const watcher = await apiSession(env.baseUrl, credentialFor(env, 'watcher'));
      const mine = await watcher.get<{ households: { id: string }[] }>(`/api/operations/${op.id}/my-households`);
      const household = mine.households[0]!.id;
      await watcher.post(`/api/operations/${op.id}/visits`, {
        client_id: uuidv7(Date.now()), household_id: household, outcome: 'rescue', device_time: new Date().toISOString(),
      });
      await push.waitFor(1);
      expect(push.errors).toEqual([]);
      const escalation = push.received.map((r) => JSON.parse(r.payload) as Record<string, unknown>).find((p) => p['kind'] === 'escalation')!;
      expect(escalation).toBeDefined();
      expect(escalation['title']).toBe('【訓練】至急の報告があります');
      expect(escalation['drill']).toBe(true);
      expect(String(escalation['url'])).toMatch(new RegExp(`^/operations/${op.id}/escalations/[0-9a-f-]{36}$`));
      expect(push.received.filter((r) => r.payload.includes('"kind":"escalation"'))).toHaveLength(1);
      expect(push.received[0]!.urgency).toBe('high');
      const payload = push.received.find((r) => r.payload.includes('"kind":"escalation"'))!.payload;

      // Chromium delivers it to this origin's service worker, which shows it.
      const cdp = await context.newCDPSession(page);
      const registrationId = new Promise<string>((resolve) => {
        cdp.on('ServiceWorker.workerRegistrationUpdated', (ev: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
          const reg = ev.registrations.find((r) => !r.isDeleted && r.scopeURL.startsWith(env.baseUrl));
          if (reg) resolve(reg.registrationId);
        });
      });
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: env.baseUrl, registrationId: await registrationId, data: payload });
      const shown = await page.waitForFunction(async () => {
        const reg = await navigator.serviceWorker.ready;
        const ns = await reg.getNotifications();
        return ns.length ? ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: (n.data as { url: string }).url })) : null;
      }, undefined, { polling: 250 });
      const [notification] = (await shown.jsonValue())!;
      expect(notification).toEqual({ title: '【訓練】至急の報告があります', body: '活動の報告を確認してください。',
        tag: String(escalation['tag']), url: escalation['url'] });

      // A tap: the open window is focused and shows the coordinator's console of that operation.
      const [worker] = context.serviceWorkers();
      expect(worker).toBeDefined();
      await worker!.evaluate(async () => {
        // In the worker's own scope (no DOM types here): what a tap on the notification dispatches.
        const sw = self as any; // eslint-disable-line @typescript-eslint/no-explicit-any
        const [n] = await sw.registration.getNotifications();
        sw.dispatchEvent(new sw.NotificationEvent('notificationclick', { notification: n }));
      });
      await page.waitForURL((url) => url.pathname === `/console/op/${op.id}`);
      await page.waitForFunction(async () => (await (await navigator.serviceWorker.ready).getNotifications()).length === 0);
    } finally {
      await context.close();
    }
  });
});

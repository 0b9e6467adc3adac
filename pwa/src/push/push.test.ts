import { describe, expect, it } from 'vitest';
import { disablePush, enablePush, ensurePush, forgetPush, keyBytes, pushState, shouldOffer, type PushDeps, type PushManagerLike, type SubscriptionLike } from './push';
import { inAppPath, parsePayload, toNotification } from './payload';
import { screenFor } from '../field/pages/notification-target';

const KEY = 'BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0A';

class MemoryStorage implements Storage {
  private map = new Map<string, string>();
  get length() { return this.map.size; }
  clear() { this.map.clear(); }
  getItem(k: string) { return this.map.get(k) ?? null; }
  key(i: number) { return [...this.map.keys()][i] ?? null; }
  removeItem(k: string) { this.map.delete(k); }
  setItem(k: string, v: string) { this.map.set(k, v); }
}

/** A browser's PushManager as far as we use it: one subscription per app, made with a key. */
class StubPushManager implements PushManagerLike {
  current: (SubscriptionLike & { key: Uint8Array }) | null = null;
  subscribeCalls = 0;
  async getSubscription() { return this.current; }
  async subscribe(options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }) {
    expect(options.userVisibleOnly).toBe(true);
    this.subscribeCalls += 1;
    const endpoint = `https://fcm.googleapis.com/fcm/send/device-${this.subscribeCalls}`;
    const sub = {
      endpoint,
      key: options.applicationServerKey,
      toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: 'p', auth: 'a' } }),
      unsubscribe: async () => { this.current = null; return true; },
    };
    this.current = sub;
    return sub;
  }
}

function world(permission: NotificationPermission | 'unsupported' = 'default', answer: NotificationPermission = 'granted') {
  const manager = new StubPushManager();
  const calls: { method: string; path: string; body?: unknown }[] = [];
  let perm = permission;
  let prompts = 0;
  const deps: PushDeps = {
    api: {
      get: async <T>(path: string) => { calls.push({ method: 'GET', path }); return { public_key: KEY } as T; },
      post: async <T>(path: string, body?: unknown) => { calls.push({ method: 'POST', path, body }); return {} as T; },
      request: async <T>(method: string, path: string, body?: unknown) => { calls.push({ method, path, body }); return undefined as T; },
    },
    pushManager: async () => (perm === 'unsupported' ? null : manager),
    permission: () => perm,
    requestPermission: async () => { prompts += 1; perm = answer; return answer; },
    storage: new MemoryStorage(),
  };
  return { deps, manager, calls, prompts: () => prompts };
}

describe('the subscribe flow', () => {
  it('offers once after sign-in, asks the browser only on yes, and registers the subscription made with the server key', async () => {
    const w = world();
    expect(await shouldOffer(w.deps)).toBe(true);
    expect(w.prompts()).toBe(0); // nothing is asked before the user says yes

    expect(await enablePush(w.deps)).toBe('on');
    expect(w.prompts()).toBe(1);
    expect(w.manager.subscribeCalls).toBe(1);
    expect([...w.manager.current!.key]).toEqual([...keyBytes(KEY)]);
    expect(w.manager.current!.key.length).toBe(65);
    expect(w.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /api/push/vapid-public-key', 'POST /api/push/subscriptions']);
    expect(w.calls[1]!.body).toEqual({ endpoint: 'https://fcm.googleapis.com/fcm/send/device-1', expirationTime: null, keys: { p256dh: 'p', auth: 'a' } });
    expect(await shouldOffer(w.deps)).toBe(false);
    expect(await pushState(w.deps)).toBe('on');
  });

  it('keeps one subscription per device: every start registers the same one again', async () => {
    const w = world('granted');
    await enablePush(w.deps);
    await ensurePush(w.deps);
    await ensurePush(w.deps);
    expect(w.manager.subscribeCalls).toBe(1);
    const posted = w.calls.filter((c) => c.path === '/api/push/subscriptions').map((c) => (c.body as { endpoint: string }).endpoint);
    expect(new Set(posted)).toEqual(new Set(['https://fcm.googleapis.com/fcm/send/device-1']));
    expect(posted).toHaveLength(3);
  });

  it('a subscription the browser replaced is made anew with the key at the next start', async () => {
    const w = world('granted');
    await enablePush(w.deps);
    w.manager.current = null; // pushsubscriptionchange without a page open
    await ensurePush(w.deps);
    expect(w.manager.subscribeCalls).toBe(2);
    expect(w.calls.at(-1)).toMatchObject({ method: 'POST', path: '/api/push/subscriptions' });
  });

  it('"not now" is remembered: no explanation again, nothing subscribed, nothing asked', async () => {
    const w = world();
    expect(await disablePush(w.deps)).toBe('off');
    expect(await shouldOffer(w.deps)).toBe(false);
    await ensurePush(w.deps);
    expect(w.prompts()).toBe(0);
    expect(w.manager.subscribeCalls).toBe(0);
    // The switch in settings still turns it on.
    expect(await enablePush(w.deps)).toBe('on');
  });

  it('a refusal in the browser prompt shows as blocked and is not asked again', async () => {
    const w = world('default', 'denied');
    expect(await enablePush(w.deps)).toBe('blocked');
    expect(await shouldOffer(w.deps)).toBe(false);
    expect(await pushState(w.deps)).toBe('blocked');
    expect(w.calls).toEqual([]);
  });

  it('turning it off unsubscribes here and on the server', async () => {
    const w = world('granted');
    await enablePush(w.deps);
    expect(await disablePush(w.deps)).toBe('off');
    expect(w.manager.current).toBeNull();
    expect(w.calls.at(-1)).toEqual({ method: 'DELETE', path: '/api/push/subscriptions', body: { endpoint: 'https://fcm.googleapis.com/fcm/send/device-1' } });
  });

  it('sign-out ends the browser subscription and the next user is asked afresh', async () => {
    const w = world('granted');
    await enablePush(w.deps);
    await forgetPush(w.deps);
    expect(w.manager.current).toBeNull();
    expect(await shouldOffer(w.deps)).toBe(true);
    expect(await pushState(w.deps)).toBe('off');
  });

  it('where push is not possible nothing is offered and the switch says so', async () => {
    const w = world('unsupported');
    expect(await shouldOffer(w.deps)).toBe(false);
    expect(await pushState(w.deps)).toBe('unsupported');
    expect(await enablePush(w.deps)).toBe('unsupported');
  });
});

describe('what a push shows and opens', () => {
  it('marks drills 【訓練】 once and keeps taps inside the app', () => {
    const drill = toNotification(parsePayload(JSON.stringify({ title: '至急の報告があります', body: 'b', url: '/operations/o/escalations/e', tag: 'drill:esc-1', kind: 'escalation', drill: true })));
    expect(drill.title).toBe('【訓練】至急の報告があります');
    expect(drill.requireInteraction).toBe(true);
    expect(drill.data.url).toBe('/operations/o/escalations/e');
    expect(toNotification(parsePayload(JSON.stringify({ title: '【訓練】状況付与', drill: true }))).title).toBe('【訓練】状況付与');
    expect(toNotification(parsePayload(JSON.stringify({ title: 'x', url: 'https://evil.example/' }))).data.url).toBe('/');
    expect(inAppPath('//evil.example/x')).toBe('/');
    expect(parsePayload('not json').title).toBe('Tonari 隣');
  });

  it('opens the console for coordinators and the field screens for commissioners and watchers', () => {
    expect(screenFor({ role: 'coordinator' }, 'op1', 'e1')).toBe('/console/op/op1');
    expect(screenFor({ role: 'staff' }, 'op1')).toBe('/console/op/op1');
    expect(screenFor({ role: 'commissioner' }, 'op1', 'e1')).toBe('/escalations');
    expect(screenFor({ role: 'watcher' }, 'op1')).toBe('/op/op1');
  });
});

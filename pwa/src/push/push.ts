/**
 * Web Push on this device: permission, the one subscription, and the user's choice.
 *
 * The browser is asked for permission only when the user says yes to our own explanation (after
 * sign-in, on the home screen; never on first paint). "Not now" is remembered and the
 * explanation is not shown again; the switch on the account screen turns notifications on or off
 * at any time. The browser keeps one subscription per app; the server upserts it by endpoint, so
 * registering it again at every start keeps exactly one row per device, under whoever is signed
 * in. Signing out ends the browser's subscription (the server removes its row with the session).
 */
import type { ApiClient } from '../api/client';

/** What the switch shows. */
export type PushState =
  | 'unsupported' // no service worker / PushManager / Notification here (e.g. iOS outside a home-screen app)
  | 'blocked' // the browser's permission is "denied": only the browser's site settings can change it
  | 'on'
  | 'off';

/** The user's own choice on this device; absent until they answered our explanation once. */
export type PushChoice = 'on' | 'off';

const CHOICE_KEY = 'tonari.push';

export interface SubscriptionLike {
  readonly endpoint: string;
  toJSON(): unknown;
  unsubscribe(): Promise<boolean>;
}

export interface PushManagerLike {
  getSubscription(): Promise<SubscriptionLike | null>;
  subscribe(options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }): Promise<SubscriptionLike>;
}

export interface PushDeps {
  api: Pick<ApiClient, 'get' | 'post' | 'request'>;
  /** The service worker registration's PushManager, or null where push is not available. */
  pushManager: () => Promise<PushManagerLike | null>;
  permission: () => NotificationPermission | 'unsupported';
  requestPermission: () => Promise<NotificationPermission>;
  storage?: Storage;
}

function supported(): boolean {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof window !== 'undefined'
    && 'PushManager' in window && 'Notification' in window;
}

/** This browser's PushManager, or null (no push here, or no service worker yet). */
export async function browserPushManager(): Promise<PushManagerLike | null> {
  if (!supported()) return null;
  // `ready` never settles without a worker (vite dev): do not wait for it then.
  const reg = await navigator.serviceWorker.getRegistration();
  return reg ? (reg.pushManager as unknown as PushManagerLike) : null;
}

export function browserPushDeps(api: PushDeps['api']): PushDeps {
  return {
    api,
    pushManager: browserPushManager,
    permission: () => (supported() ? Notification.permission : 'unsupported'),
    requestPermission: () => Notification.requestPermission(),
    storage: safeStorage(),
  };
}

function safeStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

export function loadChoice(storage: Storage | undefined): PushChoice | null {
  const v = storage?.getItem(CHOICE_KEY);
  return v === 'on' || v === 'off' ? v : null;
}

function saveChoice(storage: Storage | undefined, choice: PushChoice | null): void {
  try {
    if (choice === null) storage?.removeItem(CHOICE_KEY);
    else storage?.setItem(CHOICE_KEY, choice);
  } catch {
    // Private mode / full storage: the choice holds for this visit only.
  }
}

export async function pushState(deps: PushDeps): Promise<PushState> {
  const permission = deps.permission();
  if (permission === 'unsupported' || !(await deps.pushManager())) return 'unsupported';
  if (permission === 'denied') return 'blocked';
  return permission === 'granted' && loadChoice(deps.storage) === 'on' ? 'on' : 'off';
}

/** Show our explanation? Only once: until the user said yes or not now (or the browser decided). */
export async function shouldOffer(deps: PushDeps): Promise<boolean> {
  if (loadChoice(deps.storage) !== null) return false;
  const permission = deps.permission();
  if (permission === 'unsupported' || permission === 'denied') return false;
  return (await deps.pushManager()) !== null;
}

/** base64url → bytes, for `applicationServerKey`. */
export function keyBytes(base64url: string): Uint8Array {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** Registers this device's subscription with the server (creating it if the browser has none). */
async function register(deps: PushDeps, manager: PushManagerLike): Promise<void> {
  let sub = await manager.getSubscription();
  if (!sub) {
    const { public_key } = await deps.api.get<{ public_key: string }>('/api/push/vapid-public-key');
    sub = await manager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) });
  }
  await deps.api.post('/api/push/subscriptions', sub.toJSON());
}

/**
 * The user said yes (our explanation or the switch): ask the browser, subscribe, register.
 * Returns the resulting state; a refusal in the browser's own prompt is remembered as "off".
 */
export async function enablePush(deps: PushDeps): Promise<PushState> {
  const manager = await deps.pushManager();
  if (!manager || deps.permission() === 'unsupported') return 'unsupported';
  let permission = deps.permission();
  if (permission === 'default') permission = await deps.requestPermission();
  if (permission !== 'granted') {
    saveChoice(deps.storage, 'off');
    return permission === 'denied' ? 'blocked' : 'off';
  }
  await register(deps, manager);
  saveChoice(deps.storage, 'on');
  return 'on';
}

/** "Not now" or the switch turned off: no subscription on this device, and no asking again. */
export async function disablePush(deps: PushDeps): Promise<PushState> {
  saveChoice(deps.storage, 'off');
  const manager = await deps.pushManager();
  const sub = await manager?.getSubscription();
  if (sub) {
    await deps.api.request('DELETE', '/api/push/subscriptions', { endpoint: sub.endpoint }).catch(() => undefined);
    await sub.unsubscribe().catch(() => false);
  }
  return pushState(deps);
}

/**
 * At every signed-in start (and when the service worker re-subscribed): if the user turned
 * notifications on and the browser still allows them, make sure the server has this device's
 * current subscription. Never asks for anything.
 */
export async function ensurePush(deps: PushDeps): Promise<void> {
  if (loadChoice(deps.storage) !== 'on' || deps.permission() !== 'granted') return;
  const manager = await deps.pushManager();
  if (manager) await register(deps, manager);
}

/** Sign-out: the browser's subscription ends and the next user of this device is asked afresh. */
export async function forgetPush(deps: Pick<PushDeps, 'pushManager' | 'storage'>): Promise<void> {
  saveChoice(deps.storage, null);
  const manager = await deps.pushManager().catch(() => null);
  const sub = await manager?.getSubscription().catch(() => null);
  await sub?.unsubscribe().catch(() => false);
}

import { ja } from './ja';
import { en } from './en';

export type Lang = 'ja' | 'en';
export type MessageKey = keyof typeof ja;

export const LANGS: readonly Lang[] = ['ja', 'en'];
export const dictionaries: Record<Lang, Record<MessageKey, string>> = { ja, en };

const STORAGE_KEY = 'tonari.lang';

// Japanese first: the product's users are Japanese, so the browser's language is
// deliberately NOT consulted — only an explicit choice switches to English.
let current: Lang = 'ja';
const listeners = new Set<(lang: Lang) => void>();

export function isLang(value: unknown): value is Lang {
  return value === 'ja' || value === 'en';
}

export function getLang(): Lang {
  return current;
}

/** Reads the stored choice and applies it to <html lang>; call once at start-up. */
export function initLang(storage: Storage | undefined = safeLocalStorage()): Lang {
  const stored = storage?.getItem(STORAGE_KEY);
  current = isLang(stored) ? stored : 'ja';
  applyToDocument();
  return current;
}

export function setLang(lang: Lang, storage: Storage | undefined = safeLocalStorage()): void {
  current = lang;
  try {
    storage?.setItem(STORAGE_KEY, lang);
  } catch {
    // Private mode / full storage: the choice still applies for this visit.
  }
  applyToDocument();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn: (lang: Lang) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Looks up a message and fills `{name}` placeholders. */
export function t(key: MessageKey, params?: Record<string, string | number>, lang: Lang = current): string {
  const template = dictionaries[lang][key] ?? dictionaries.ja[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

function applyToDocument(): void {
  if (typeof document === 'undefined') return;
  // Screen readers pick pronunciation from lang; it must follow the toggle.
  document.documentElement.lang = current;
  document.title = t('app.name');
}

function safeLocalStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

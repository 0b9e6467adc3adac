import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROLES } from '../api/types';
import { dictionaries, getLang, initLang, LANGS, onLangChange, setLang, t, type MessageKey } from './index';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** The same Japanese for different messages, told apart in English: allowed as listed, each with why. */
const HOMONYMS: [keys: string[], why: string][] = [
  [['login.signIn', 'staff.audit.action.auth.login'], 'the sign-in screen vs the audit log’s event “Sign-in”'],
  [['home.signOut', 'staff.audit.action.auth.logout'], 'the sign-out button vs the audit log’s event “Sign-out”'],
  [['staff.users.everywhere', 'staff.audit.action.auth.logout_everywhere'], 'the button vs the audit log’s event “Signed out everywhere”'],
  [['staff.audit.object.watch_link', 'staff.audit.action.watch_link.create'], 'the audited object vs the action “Watch link created”'],
  [['console.counter.confirmed', 'esc.status.acknowledged'], 'households confirmed vs an escalation acknowledged'],
  [['console.count', 'staff.audit.count'], 'a bare figure in the console’s counters vs “{count} items” in a sentence'],
  [['console.tab.escalations', 'console.event.escalationCreated'], 'the tab “Escalations” vs the timeline event “Escalation”'],
  [['role.watcher', 'staff.reg.tab.watchers'], 'the role vs the tab listing watchers (plural)'],
  [['common.district', 'staff.reg.tab.districts'], 'one district vs the tab listing districts (plural)'],
  [['common.shelter', 'common.shelters'], 'one shelter vs the list of shelters (plural)'],
  [['staff.reg.person', 'staff.reg.people'], 'one person vs the people of a household (plural)'],
  [['staff.audit.object.hazard_zone', 'staff.reg.tab.hazardZones'], 'one hazard zone vs the list of them (plural)'],
  [['staff.reg.reason', 'staff.reg.reasons'], 'the one-reason search filter vs a person’s reasons (plural)'],
  [['staff.imports.errors', 'staff.imports.sevError'], 'the count of errors vs one issue’s severity'],
  [['staff.imports.warnings', 'staff.imports.sevWarning'], 'the count of warnings vs one issue’s severity'],
  [['staff.audit.action', 'staff.colActions'], 'what was done (audit) vs the column of buttons'],
  [['staff.imports.colSeverity', 'staff.ops.colMode'], 'an issue’s severity vs an operation’s mode (real / drill)'],
];

describe('dictionaries', () => {
  const jaKeys = Object.keys(dictionaries.ja).sort();

  it.each(LANGS)('%s has exactly the same keys as ja', (lang) => {
    const keys = Object.keys(dictionaries[lang]).sort();
    expect(keys.filter((k) => !jaKeys.includes(k)), 'extra keys').toEqual([]);
    expect(jaKeys.filter((k) => !keys.includes(k)), 'missing keys').toEqual([]);
  });

  it.each(LANGS)('%s has no empty messages and the same placeholders as ja', (lang) => {
    for (const key of jaKeys as MessageKey[]) {
      const text = dictionaries[lang][key];
      expect(text?.trim(), `${lang}:${key}`).toBeTruthy();
      expect(placeholders(text), `${lang}:${key}`).toEqual(placeholders(dictionaries.ja[key]));
    }
  });

  it('has a label for every role in both languages', () => {
    for (const role of ROLES) {
      for (const lang of LANGS) expect(dictionaries[lang]).toHaveProperty(`role.${role}`);
    }
    expect(t('role.watcher', undefined, 'ja')).toBe('見守り協力員');
    expect(t('role.commissioner', undefined, 'ja')).toBe('民生委員');
    expect(t('role.vc_volunteer', undefined, 'ja')).toBe('災害VCボランティア');
  });

  it('every key is used by the app (no dead translations)', () => {
    const sources = import.meta.glob(['../**/*.ts', '!../**/*.test.ts', '!./*.ts'], { query: '?raw', import: 'default', eager: true });
    const code = Object.values(sources).join('\n');
    expect(code.length).toBeGreaterThan(1000);
    // Role labels are looked up as `role.${user.role}`.
    const unused = jaKeys.filter((k) => !code.includes(`'${k}'`) && !k.startsWith('role.'));
    expect(unused).toEqual([]);
    expect(code).toContain('t(`role.${');
  });

  it('each Japanese text has one key (a word says the same everywhere, and is translated once)', () => {
    const keysByText = new Map<string, string[]>();
    for (const [key, text] of Object.entries(dictionaries.ja)) {
      keysByText.set(text, [...(keysByText.get(text) ?? []), key]);
    }
    const allowed = new Set(HOMONYMS.map(([keys]) => [...keys].sort().join(' ')));
    const repeated = [...keysByText.entries()]
      .filter(([, keys]) => keys.length > 1 && !allowed.has([...keys].sort().join(' ')))
      .map(([text, keys]) => `${text}: ${keys.join(', ')}`);
    expect(repeated, 'merge these keys into one, or list them in HOMONYMS with the reason').toEqual([]);
    // Each allowed group is still a real repeat (no stale entries).
    for (const [keys] of HOMONYMS) {
      expect(new Set(keys.map((k) => dictionaries.ja[k as MessageKey])).size, keys.join(', ')).toBe(1);
    }
  });

  it('the Japanese texts are actually Japanese', () => {
    // Guards against an English string pasted into ja.ts.
    const kana = /[\u3040-\u30ff\u4e00-\u9fff]/;
    const latinOnly = Object.entries(dictionaries.ja).filter(([key, v]) => !kana.test(v) && key !== 'lang.switchTo');
    expect(latinOnly).toEqual([]);
  });
});

describe('language state', () => {
  afterEach(() => {
    localStorage.clear();
    setLang('ja');
  });

  it('defaults to Japanese and sets <html lang>', () => {
    localStorage.clear();
    expect(initLang()).toBe('ja');
    expect(document.documentElement.lang).toBe('ja');
    expect(t('login.id')).toBe('ログインID');
  });

  it('stores the choice, switches <html lang> and notifies listeners', () => {
    const listener = vi.fn();
    const off = onLangChange(listener);
    setLang('en');
    off();
    expect(listener).toHaveBeenCalledWith('en');
    expect(localStorage.getItem('tonari.lang')).toBe('en');
    expect(document.documentElement.lang).toBe('en');
    expect(t('login.id')).toBe('Login ID');
    expect(initLang()).toBe('en'); // survives a reload
  });

  it('ignores a garbage stored value', () => {
    localStorage.setItem('tonari.lang', 'fr');
    expect(initLang()).toBe('ja');
    expect(getLang()).toBe('ja');
  });

  it('fills placeholders', () => {
    expect(t('wait.seconds', { seconds: 30 }, 'ja')).toBe('30秒ほど待ってから、もう一度お試しください。');
    expect(t('wait.minutes', { minutes: 2 }, 'en')).toBe('Please wait about 2 minutes and try again.');
  });
});

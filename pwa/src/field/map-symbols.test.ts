import { afterEach, describe, expect, it } from 'vitest';
import { OUTCOMES } from './model';
import { LANGS, setLang, t } from '../i18n';
import { vocabLabel } from '../vocab';
import { LEGEND_STATUSES, statusLabel, statusLook } from './map-symbols';

describe('map status symbols', () => {
  afterEach(() => setLang('ja'));

  it('gives every status a shape of its own per colour family (colour is never the only cue)', () => {
    const all = [...new Set([...OUTCOMES.watch_round, ...OUTCOMES.safety_check, 'unreached', 'late', 'overdue'])];
    for (const s of all) expect(LEGEND_STATUSES as readonly string[]).toContain(s);
    // Different colours always come with different shapes (or an extra mark).
    const byFill = new Map<string, string>();
    for (const s of all) {
      const look = statusLook(s);
      const sig = `${look.shape}|${look.mark}`;
      const prev = byFill.get(look.fill);
      if (prev) expect(prev).toBe(sig);
      byFill.set(look.fill, sig);
    }
    const sigs = [...byFill.values()];
    expect(new Set(sigs).size).toBe(sigs.length);
  });

  it('tells every outcome of one operation kind apart by shape, colour and mark (無事 is not 避難済)', () => {
    for (const kind of ['watch_round', 'safety_check'] as const) {
      const looks = [...OUTCOMES[kind], 'unreached', 'late', 'overdue'].map((s) => {
        const l = statusLook(s);
        return `${l.shape}|${l.fill}|${l.mark}`;
      });
      expect(new Set(looks).size).toBe(looks.length);
    }
    expect(statusLook('evacuated').shape).not.toBe(statusLook('safe').shape);
  });

  it('has a label for every legend entry in both languages', () => {
    for (const lang of LANGS) {
      setLang(lang);
      for (const s of LEGEND_STATUSES) expect(statusLabel(s), `${lang}:${s}`).not.toBe(s);
    }
    setLang('ja');
    expect(statusLabel('overdue')).toBe(t('map.status.overdue'));
    expect(statusLabel('late')).toBe(t('map.status.late'));
    expect(statusLook('late').mark).toBe('遅');
    expect(statusLabel('unreached')).toBe('未確認');
    expect(statusLabel('rescue')).toBe(vocabLabel('outcomes', 'rescue'));
    setLang('en');
    expect(statusLabel('rescue')).toBe('Needs rescue');
    expect(statusLabel('unreached')).toBe(t('op.status.unreached'));
    expect(statusLook('something-new').shape).toBe('ring');
  });
});

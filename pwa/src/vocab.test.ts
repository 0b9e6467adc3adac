import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kindLabel, outcomeLabel, OUTCOMES } from './field/model';
import { LANGS, setLang, t } from './i18n';
import { DATASETS } from './staff/registry-model';
import { inVocab, VOCAB, vocabCodes, vocabLabel, vocabOptions, withLabelKeys, type ListKind } from './vocab';

// The file the server reads (tests/core/test_vocabulary.py holds it to the database).
const FILE = JSON.parse(readFileSync(resolve(__dirname, '../../vocab/vocabulary.json'), 'utf-8'));

const LISTS: ListKind[] = [
  'support_reasons', 'sexes', 'mobility', 'medical_devices', 'recipient_classes', 'consent_datasets',
  'shelter_kinds', 'shelter_hazards', 'hazard_zone_kinds', 'district_levels', 'operation_kinds',
  'vc_damage_kinds', 'vc_work_types', 'vc_need_flags', 'vc_need_states', 'vc_survey_verdicts', 'vc_risks', 'vc_skills',
  'vc_equipment', 'vc_age_bands', 'vc_insurance',
  'drill_hazards', 'drill_inject_kinds', 'drill_expectation_kinds',
];

afterEach(() => setLang('ja'));

describe('vocab', () => {
  it('is the repository vocabulary, every list typed as it is read', () => {
    expect(VOCAB).toEqual(FILE);
    expect(Object.keys(VOCAB).sort()).toEqual([...LISTS, 'outcomes'].sort());
    for (const kind of LISTS) {
      expect(VOCAB[kind].length, kind).toBeGreaterThan(0);
      for (const term of VOCAB[kind]) expect(Object.keys(term).sort(), kind).toEqual(['code', 'en', 'ja']);
    }
    expect(Object.keys(VOCAB.outcomes)).toEqual(vocabCodes('operation_kinds'));
    for (const term of Object.values(VOCAB.outcomes).flat()) {
      expect([undefined, 'urgent', 'contact']).toContain(term.escalate);
    }
  });

  it('labels a code in the current language, and shows an unknown code as it is', () => {
    expect(vocabLabel('support_reasons', 'care_level_3_5')).toBe('要介護3〜5');
    expect(vocabLabel('outcomes', 'rescue')).toBe('要救助');
    setLang('en');
    expect(vocabLabel('support_reasons', 'care_level_3_5')).toBe('Care level 3–5');
    expect(vocabLabel('outcomes', 'rescue')).toBe('Needs rescue');
    expect(vocabLabel('sexes', 'female', 'ja')).toBe('女');
    expect(vocabLabel('mobility', 'no_such_code')).toBe('no_such_code');
  });

  it('gives the field its outcomes per operation kind, labelled as the vocabulary labels them', () => {
    expect(OUTCOMES).toEqual({
      watch_round: ['ok', 'away', 'contact', 'emergency'],
      safety_check: ['safe', 'injured', 'rescue', 'evacuated', 'unknown'],
    });
    for (const lang of LANGS) {
      setLang(lang);
      for (const code of vocabCodes('outcomes')) expect(outcomeLabel(code)).toBe(vocabLabel('outcomes', code, lang));
      for (const code of vocabCodes('operation_kinds')) expect(kindLabel(code)).toBe(vocabLabel('operation_kinds', code, lang));
      // No outcome yet (or a code the vocabulary does not know) reads as not visited.
      expect(outcomeLabel(null)).toBe(t('op.status.unreached'));
      expect(outcomeLabel('unreached')).toBe(t('op.status.unreached'));
    }
    setLang('ja');
    expect(outcomeLabel('away')).toBe('不在');
    expect(kindLabel('watch_round')).toBe('定期見守り');
  });

  it('lists codes with their labels in the current language, in display order', () => {
    expect(vocabOptions('sexes')).toEqual([['female', '女'], ['male', '男'], ['other', 'その他'], ['unknown', '不明']]);
    setLang('en');
    expect(vocabOptions('district_levels')).toEqual([['area', 'Area'], ['branch', 'Branch'], ['unit', 'Neighbourhood unit']]);
    expect(vocabOptions('outcomes', 'ja').map(([code]) => code)).toEqual(vocabCodes('outcomes'));
    expect(inVocab('outcomes', 'rescue')).toBe(true);
    expect(inVocab('outcomes', 'unreached')).toBe(false);
  });

  it('gives the consent table its data sets in order, keyed to words the vocabulary labels the same', () => {
    expect(DATASETS.map(([code]) => code)).toEqual(vocabCodes('consent_datasets'));
    for (const [code, key] of DATASETS) {
      for (const lang of LANGS) expect(t(key, undefined, lang)).toBe(vocabLabel('consent_datasets', code, lang));
    }
  });

  it('refuses a code that has no label key', () => {
    expect(() => withLabelKeys('consent_datasets', { roster: 'staff.dataset.roster' })).toThrow('consent_datasets plan');
  });
});

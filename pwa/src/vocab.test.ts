import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTCOME_LABELS, OUTCOMES } from './field/model';
import { LANGS, setLang, t } from './i18n';
import { SUPPORT_REASONS } from './staff/operations-model';
import { DATASETS, MEDICAL_DEVICES, MOBILITY, RECIPIENT_CLASSES, SEXES, SHELTER_HAZARDS } from './staff/registry-model';
import { VOCAB, vocabCodes, vocabLabel, withLabelKeys, type ListKind } from './vocab';

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
    for (const code of vocabCodes('outcomes')) {
      for (const lang of LANGS) expect(t(OUTCOME_LABELS[code]!, undefined, lang)).toBe(vocabLabel('outcomes', code, lang));
    }
  });

  it.each([
    ['support_reasons', SUPPORT_REASONS],
    ['recipient_classes', RECIPIENT_CLASSES],
    ['consent_datasets', DATASETS],
    ['sexes', SEXES],
    ['mobility', MOBILITY],
    ['medical_devices', MEDICAL_DEVICES],
    ['shelter_hazards', SHELTER_HAZARDS],
  ] as const)('gives the staff screens the %s in order, labelled as the vocabulary labels them', (kind, list) => {
    expect(list.map(([code]) => code)).toEqual(vocabCodes(kind));
    for (const [code, key] of list) {
      for (const lang of LANGS) expect(t(key, undefined, lang)).toBe(vocabLabel(kind, code, lang));
    }
  });

  it('refuses a code that has no label key', () => {
    expect(() => withLabelKeys('consent_datasets', { roster: 'staff.dataset.roster' })).toThrow('consent_datasets plan');
  });
});

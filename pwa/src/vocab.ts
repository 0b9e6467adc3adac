/**
 * The controlled vocabularies (support reasons, outcomes, sexes, …): the same file the server
 * reads, `vocab/vocabulary.json` at the top of the repository, so a code or label is listed once.
 * Codes are what the API sends and stores; labels are for people, in the current language.
 */
import vocabulary from '../../vocab/vocabulary.json';
import { getLang, type Lang } from './i18n';

export interface Term {
  readonly code: string;
  readonly ja: string;
  readonly en: string;
}

export interface OutcomeTerm extends Term {
  /** Raises an escalation (live feed + push) to the district's commissioner and the coordinators. */
  readonly escalate?: 'urgent' | 'contact';
}

export type OperationKind = 'watch_round' | 'safety_check';

export type ListKind =
  | 'support_reasons'
  | 'sexes'
  | 'mobility'
  | 'medical_devices'
  | 'recipient_classes'
  | 'consent_datasets'
  | 'shelter_kinds'
  | 'shelter_hazards'
  | 'hazard_zone_kinds'
  | 'district_levels'
  | 'operation_kinds'
  | 'vc_damage_kinds'
  | 'vc_work_types'
  | 'vc_need_flags'
  | 'vc_need_states'
  | 'vc_survey_verdicts'
  | 'vc_risks'
  | 'vc_skills'
  | 'vc_equipment'
  | 'vc_age_bands'
  | 'vc_insurance'
  | 'drill_hazards'
  | 'drill_inject_kinds'
  | 'drill_expectation_kinds';

/** A list, or `outcomes` (the outcome codes of every operation kind, which never overlap). */
export type VocabKind = ListKind | 'outcomes';

export type Vocabulary = { readonly [K in ListKind]: readonly Term[] } & {
  readonly outcomes: Readonly<Record<OperationKind | 'vc', readonly OutcomeTerm[]>>;
};

/** Every list in display order. */
export const VOCAB: Vocabulary = vocabulary as Vocabulary;

function terms(kind: VocabKind): readonly Term[] {
  return kind === 'outcomes' ? Object.values(VOCAB.outcomes).flat() : VOCAB[kind];
}

/** The codes of a list, in display order. */
export function vocabCodes(kind: VocabKind): string[] {
  return terms(kind).map((term) => term.code);
}

/** The label of a code in the current language (or `lang`); an unknown code is shown as it is. */
export function vocabLabel(kind: VocabKind, code: string, lang: Lang = getLang()): string {
  return terms(kind).find((term) => term.code === code)?.[lang] ?? code;
}

/** `[code, label]` of a list in its display order, labels in the current language (or `lang`). */
export function vocabOptions(kind: VocabKind, lang: Lang = getLang()): [string, string][] {
  return terms(kind).map((term) => [term.code, term[lang]]);
}

/** Whether `code` is in the list (e.g. an outcome vs a derived map status such as 未訪問). */
export function inVocab(kind: VocabKind, code: string): boolean {
  return terms(kind).some((term) => term.code === code);
}

/**
 * `[code, i18n key]` in the vocabulary's order, where a page also needs the label as a message key
 * (the consent table's data sets are its column headings too). A code without a key is a programming error.
 */
export function withLabelKeys<K extends string>(kind: ListKind, keys: Readonly<Record<string, K>>): [string, K][] {
  return vocabCodes(kind).map((code) => {
    const key = keys[code];
    if (key === undefined) throw new Error(`no label key for ${kind} ${code}`);
    return [code, key];
  });
}

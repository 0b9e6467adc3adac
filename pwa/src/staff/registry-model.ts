import type { MessageKey } from '../i18n';

export interface ConsentOut {
  recipient_class: string;
  dataset: string;
  consented_on: string;
  source: string;
  withdrawn_on: string | null;
}

export interface PersonOut {
  id: string;
  household_id: string;
  name: string;
  kana: string;
  birth_date: string | null;
  sex: string;
  phone: string | null;
  version: number;
  emergency_contacts?: Record<string, unknown>[];
  support_reasons?: string[] | null;
  care_level?: string | null;
  mobility?: string | null;
  medical_devices?: string[] | null;
  communication_needs?: string | null;
  notes?: string | null;
  consents?: ConsentOut[] | null;
  plan?: { destination_shelter_id: string | null; route_notes: string | null; supporters: Record<string, unknown>[]; version: number } | null;
  disclosed_under?: 'normal' | 'disaster';
}

export interface HouseholdOut {
  id: string;
  address: string;
  town: string | null;
  district_id: string | null;
  lon: number;
  lat: number;
  location_approximate: boolean;
  version: number;
  updated_at: string;
  people: PersonOut[];
  notes?: string | null;
}

export interface PersonFormValues {
  name: string;
  kana: string;
  birthDate: string;
  sex: string;
  phone: string;
  supportReasons: string[];
  careLevel: string;
  mobility: string;
  medicalDevices: string[];
  communicationNeeds: string;
  notes: string;
}

export const EMPTY_PERSON: PersonFormValues = {
  name: '', kana: '', birthDate: '', sex: 'unknown', phone: '', supportReasons: [], careLevel: '', mobility: '',
  medicalDevices: [], communicationNeeds: '', notes: '',
};

export interface HouseholdFormValues {
  address: string;
  lon: string;
  lat: string;
  town: string;
  notes: string;
  person: PersonFormValues;
}

const blankToNull = (v: string): string | null => (v.trim() === '' ? null : v.trim());

/** A coordinate as typed: a number when it is one, else the text (the server's message explains). */
export function coordinate(v: string): number | string {
  const s = v.trim().replace(/，/g, '.').replace(/[０-９．－]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s;
}

/** `PersonIn`: the server validates kana, phone, dates and codes; blanks become null/absent. */
export function personPayload(f: PersonFormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: f.name.trim(),
    kana: f.kana.trim(),
    sex: f.sex || 'unknown',
    support_reasons: [...new Set(f.supportReasons)],
    medical_devices: [...new Set(f.medicalDevices)],
  };
  if (f.birthDate.trim()) out.birth_date = f.birthDate.trim();
  const optional: [string, string][] = [
    ['phone', f.phone], ['care_level', f.careLevel], ['mobility', f.mobility],
    ['communication_needs', f.communicationNeeds], ['notes', f.notes],
  ];
  for (const [key, value] of optional) {
    const v = blankToNull(value);
    if (v !== null) out[key] = v;
  }
  return out;
}

/**
 * The edit form filled from what the server disclosed. Null when sensitive fields were withheld:
 * a PATCH replaces every field, so editing a partial view would erase what the editor cannot see.
 */
export function personFormFrom(p: PersonOut): PersonFormValues | null {
  if (p.support_reasons === undefined || p.support_reasons === null || p.medical_devices === undefined || p.medical_devices === null) return null;
  return {
    name: p.name,
    kana: p.kana,
    birthDate: p.birth_date ?? '',
    sex: p.sex,
    phone: p.phone ?? '',
    supportReasons: [...p.support_reasons],
    careLevel: p.care_level ?? '',
    mobility: p.mobility ?? '',
    medicalDevices: [...p.medical_devices],
    communicationNeeds: p.communication_needs ?? '',
    notes: p.notes ?? '',
  };
}

/** `HouseholdIn` with its first person (when a name was typed). */
export function householdPayload(f: HouseholdFormValues): Record<string, unknown> {
  const out: Record<string, unknown> = { address: f.address.trim(), lon: coordinate(f.lon), lat: coordinate(f.lat), people: [] };
  if (f.town.trim()) out.town = f.town.trim();
  if (f.notes.trim()) out.notes = f.notes.trim();
  if (f.person.name.trim()) out.people = [personPayload(f.person)];
  return out;
}

/**
 * Field messages for one form out of a problem's `errors[]`: `people[0].kana` belongs to the
 * first person's `kana` field when `prefix` is `people[0].`; a bare `kana` too.
 */
export function fieldsFor(all: Map<string, string>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [field, text] of all) {
    const name = field.replace(/^\$\./, '');
    if (prefix && name.startsWith(prefix)) out.set(name.slice(prefix.length), text);
    else if (!name.includes('.') && !name.includes('[')) out.set(name, text);
  }
  return out;
}

export const RECIPIENT_CLASSES: [string, MessageKey][] = [
  ['commissioner', 'staff.class.commissioner'],
  ['council', 'staff.class.council'],
  ['voluntary_disaster_org', 'staff.class.voluntary_disaster_org'],
  ['fire', 'staff.class.fire'],
  ['police', 'staff.class.police'],
  ['watcher', 'staff.class.watcher'],
];

export const DATASETS: [string, MessageKey][] = [
  ['roster', 'staff.dataset.roster'],
  ['plan', 'staff.dataset.plan'],
];

/** Consent in force for a class × data set (given and not withdrawn). */
export function consentActive(consents: readonly ConsentOut[], cls: string, dataset: string): ConsentOut | null {
  const c = consents.find((x) => x.recipient_class === cls && x.dataset === dataset);
  return c && !c.withdrawn_on ? c : null;
}

/**
 * `PUT /api/persons/{id}/consents` body for the cells that changed: a newly ticked cell is
 * consent given today from `source`; an unticked one that was in force is withdrawn today
 * (its original date and source kept). Unchanged cells are not sent.
 */
export function consentChanges(
  current: readonly ConsentOut[],
  wanted: ReadonlyMap<string, boolean>,
  today: string,
  source: string,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [cell, want] of wanted) {
    const [cls, dataset] = cell.split('|') as [string, string];
    const active = consentActive(current, cls, dataset);
    if (want && !active) {
      out.push({ recipient_class: cls, dataset, consented_on: today, source: source.trim(), withdrawn_on: null });
    } else if (!want && active) {
      out.push({ recipient_class: cls, dataset, consented_on: active.consented_on, source: active.source, withdrawn_on: today });
    }
  }
  return out;
}

/** Today in Japan (the council's calendar), as YYYY-MM-DD. */
export function todayJst(now: Date = new Date()): string {
  return new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

export const SEXES: [string, MessageKey][] = [
  ['female', 'staff.sex.female'],
  ['male', 'staff.sex.male'],
  ['other', 'staff.sex.other'],
  ['unknown', 'staff.sex.unknown'],
];

export const MOBILITY: [string, MessageKey][] = [
  ['independent', 'staff.mobility.independent'],
  ['cane', 'staff.mobility.cane'],
  ['wheelchair', 'staff.mobility.wheelchair'],
  ['bedridden', 'staff.mobility.bedridden'],
];

export const MEDICAL_DEVICES: [string, MessageKey][] = [
  ['home_oxygen', 'staff.device.home_oxygen'],
  ['ventilator', 'staff.device.ventilator'],
  ['dialysis', 'staff.device.dialysis'],
  ['suction', 'staff.device.suction'],
  ['other', 'staff.device.other'],
];

export const SHELTER_KINDS: Record<string, MessageKey> = {
  designated: 'staff.shelter.kind.designated',
  welfare: 'staff.shelter.kind.welfare',
  emergency_site: 'staff.shelter.kind.emergency_site',
};

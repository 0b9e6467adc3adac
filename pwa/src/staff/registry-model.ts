import type { MessageKey } from '../i18n';
import { vocabOptions, withLabelKeys } from '../vocab';

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
  /** Only on the edit form (a new person has none yet). */
  emergencyContacts?: ContactFormValues[];
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
  if (f.emergencyContacts) out.emergency_contacts = contactsPayload(f.emergencyContacts);
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
    // Contacts are sent to every reader of the person; the API leaves an empty list out.
    emergencyContacts: contactsFrom(p.emergency_contacts ?? []),
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

/** The consent data sets with their keys: the same words head the consent table's columns. */
export const DATASETS: [string, MessageKey][] = withLabelKeys('consent_datasets', {
  roster: 'staff.dataset.roster',
  plan: 'staff.dataset.plan',
});

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

/** Labels of a shelter's designations in the vocabulary's order (one facility can be 指定避難所 and 指定緊急避難場所). */
export function designationLabels(s: { kind: string; designations?: string[] | null }): string[] {
  const all = new Set([s.kind, ...(s.designations ?? [])]);
  return vocabOptions('shelter_kinds').filter(([code]) => all.has(code)).map(([, label]) => label);
}

// ---- shelters, districts, hazard zones (create forms) -----------------------------------------

export interface ShelterFormValues {
  kind: string;
  name: string;
  address: string;
  lon: string;
  lat: string;
  capacity: string;
  hazards: string[];
}

export const emptyShelterForm = (): ShelterFormValues => ({ kind: 'designated', name: '', address: '', lon: '', lat: '', capacity: '', hazards: [] });

/** A whole number as typed (full-width digits too), else the text so the server's message explains it. */
export function wholeNumber(v: string): number | string {
  const s = v.trim().replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  return /^\d+$/.test(s) ? Number(s) : s;
}

/** `ShelterIn`: the server checks the kind, the hazard codes and that the point lies in the city. */
export function shelterPayload(f: ShelterFormValues): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: f.kind, name: f.name.trim(), lon: coordinate(f.lon), lat: coordinate(f.lat), hazards: [...new Set(f.hazards)] };
  if (f.address.trim()) out.address = f.address.trim();
  if (f.capacity.trim()) out.capacity = wholeNumber(f.capacity);
  return out;
}

/**
 * Typed corner points, one `経度,緯度` (or `経度 緯度`) per line: the keyboard way to give an
 * area. Null when a line is not a pair of numbers.
 */
export function parseRing(text: string): [number, number][] | null {
  const out: [number, number][] = [];
  for (const raw of text.split(/[\n;]+/)) {
    const line = raw.trim().replace(/[０-９．－，]/g, (c) => (c === '，' ? ',' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)));
    if (!line) continue;
    const m = /^(-?\d+(?:\.\d+)?)\s*[,、\s]\s*(-?\d+(?:\.\d+)?)$/.exec(line);
    if (!m) return null;
    out.push([Number(m[1]), Number(m[2])]);
  }
  return out;
}

export interface Polygonish {
  type: 'Polygon';
  coordinates: [number, number][][];
}

/**
 * The area to send: the drawn polygon, else the typed points closed into a ring. With neither,
 * an empty polygon, so the server's own "draw a polygon" message is shown (it is required).
 */
export function areaFrom(drawn: Polygonish | null, typed: [number, number][]): Polygonish {
  if (drawn) return drawn;
  if (typed.length >= 3) {
    const first = typed[0]!;
    const last = typed[typed.length - 1]!;
    const ring = first[0] === last[0] && first[1] === last[1] ? typed : [...typed, first];
    return { type: 'Polygon', coordinates: [ring] };
  }
  return { type: 'Polygon', coordinates: [] };
}

export interface DistrictFormValues {
  code: string;
  name: string;
  kana: string;
  level: string;
  parentId: string;
  radius: string;
}

export const emptyDistrictForm = (): DistrictFormValues => ({ code: '', name: '', kana: '', level: 'unit', parentId: '', radius: '300' });

/** `DistrictIn` with its area. */
export function districtPayload(f: DistrictFormValues, geometry: Polygonish): Record<string, unknown> {
  const out: Record<string, unknown> = { code: f.code.trim(), name: f.name.trim(), level: f.level, geometry };
  if (f.kana.trim()) out.kana = f.kana.trim();
  if (f.parentId) out.parent_id = f.parentId;
  if (f.radius.trim()) out.walking_radius_m = wholeNumber(f.radius);
  return out;
}

export interface HazardZoneFormValues {
  kind: string;
  level: string;
  name: string;
  source: string;
}

export const emptyHazardZoneForm = (): HazardZoneFormValues => ({ kind: 'flood', level: '', name: '', source: '' });

/** `HazardZoneIn` with its area; blank texts are left out. */
export function hazardZonePayload(f: HazardZoneFormValues, geometry: Polygonish): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: f.kind, geometry };
  for (const key of ['level', 'name', 'source'] as const) if (f[key].trim()) out[key] = f[key].trim();
  return out;
}

// ---- emergency contacts and plan supporters --------------------------------------------------

export interface ContactFormValues {
  name: string;
  phone: string;
  relationship: string;
}

/** Rows as the API takes them (`EmergencyContact`): fully blank rows are dropped. */
export function contactsPayload(rows: readonly ContactFormValues[]): Record<string, string>[] {
  return rows
    .map((r) => ({ name: r.name.trim(), phone: r.phone.trim(), relationship: r.relationship.trim() }))
    .filter((r) => r.name || r.phone || r.relationship);
}

export function contactsFrom(list: readonly Record<string, unknown>[]): ContactFormValues[] {
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  return list.map((c) => ({ name: s(c['name']), phone: s(c['phone']), relationship: s(c['relationship']) }));
}

export interface SupporterFormValues {
  /** The stored supporter as disclosed: keys the form does not show (role, watcher, withdrawal) are kept. */
  original: Record<string, unknown> | null;
  name: string;
  phone: string;
  relationship: string;
  consentedOn: string;
}

/** True when some supporter's details are withheld: the plan must then not be replaced from this view. */
export function supportersHidden(supporters: readonly Record<string, unknown>[]): boolean {
  return supporters.some((s) => s['consent'] === 'not_given' || s['name'] === null || s['name'] === undefined);
}

export function supportersFrom(list: readonly Record<string, unknown>[]): SupporterFormValues[] {
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  return list.map((x) => ({ original: { ...x }, name: s(x['name']), phone: s(x['phone']), relationship: s(x['relationship']), consentedOn: s(x['consented_on']) }));
}

/**
 * The supporters list for `PUT /plan` (which replaces the plan as a whole): each edited row keeps
 * the stored keys it does not show; fully blank new rows are dropped.
 */
export function supportersPayload(rows: readonly SupporterFormValues[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of rows) {
    const name = r.name.trim();
    const phone = r.phone.trim();
    const relationship = r.relationship.trim();
    if (!r.original && !name && !phone && !relationship) continue;
    out.push({ ...(r.original ?? {}), name, phone, relationship, consented_on: r.consentedOn.trim() || null });
  }
  return out;
}

/** Households and people per district as the viewer may see them (`/api/registry/counts`). */
export interface DistrictCount { district_id: string | null; households: number; people: number }

/**
 * Each district's counts with its sub-districts included. Households belong to the deepest
 * district containing them, so an area (地区) on its own counts none; its print list and the
 * coverage table count the whole subtree, and the registry table says the same.
 */
export function subtreeCounts(
  districts: readonly { id: string; parent_id: string | null }[],
  counts: readonly DistrictCount[],
): Map<string, { households: number; people: number }> {
  const parent = new Map(districts.map((d) => [d.id, d.parent_id]));
  const out = new Map(districts.map((d) => [d.id, { households: 0, people: 0 }]));
  for (const c of counts) {
    const seen = new Set<string>();
    for (let id = c.district_id; id !== null && out.has(id) && !seen.has(id); id = parent.get(id) ?? null) {
      seen.add(id); // a parent cycle cannot loop
      const total = out.get(id)!;
      total.households += c.households;
      total.people += c.people;
    }
  }
  return out;
}

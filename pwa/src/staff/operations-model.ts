import type { MessageKey } from '../i18n';

/** GeoJSON geometry, as much as the staff screens read of it. */
export interface Geometry {
  type: string;
  coordinates: unknown;
}

export interface StaffOperation {
  id: string;
  kind: 'watch_round' | 'safety_check';
  mode: 'real' | 'drill';
  name: string;
  status: 'draft' | 'active' | 'closed' | string;
  district_ids: string[];
  support_reasons: string[];
  hazard_kinds: string[];
  first_report_minutes: number;
  completion_minutes: number;
  started_at: string | null;
  closed_at: string | null;
  targets: number;
  label: string;
}

export interface Declaration {
  id: string;
  mode: 'real' | 'drill';
  reason: string;
  district_ids: string[];
  declared_by: string;
  declared_at: string;
  lifted_at: string | null;
  lift_reason: string | null;
}

export interface District {
  id: string;
  code: string;
  name: string;
  kana: string | null;
  level: 'area' | 'branch' | 'unit';
  parent_id: string | null;
  walking_radius_m: number;
  geometry?: Geometry | null;
}

/** The create-operation form as typed (strings from inputs). */
export interface OperationForm {
  kind: 'watch_round' | 'safety_check';
  mode: 'real' | 'drill';
  name: string;
  districtIds: string[];
  supportReasons: string[];
  hazardKinds: string[];
  firstReportMinutes: string;
  completionMinutes: string;
  start: boolean;
  /** A polygon drawn on the map, used with (or instead of) the districts. */
  geometry?: Geometry | null;
}

/** `OperationIn` for `POST /api/operations`: trimmed, blanks left to the server's defaults. */
export function operationPayload(form: OperationForm): Record<string, unknown> {
  const out: Record<string, unknown> = {
    kind: form.kind,
    mode: form.mode,
    name: form.name.trim(),
    district_ids: [...new Set(form.districtIds)],
    support_reasons: [...new Set(form.supportReasons)],
    hazard_kinds: [...new Set(form.hazardKinds)],
    start: form.start,
  };
  const minutes = (v: string) => (/^\s*\d+\s*$/.test(v) ? Number(v) : v.trim() === '' ? undefined : v.trim());
  const first = minutes(form.firstReportMinutes);
  const completion = minutes(form.completionMinutes);
  // A non-number is still sent: the server answers with its own field message.
  if (first !== undefined) out.first_report_minutes = first;
  if (completion !== undefined) out.completion_minutes = completion;
  if (form.geometry) out.geometry = form.geometry;
  return out;
}

export interface DeclarationForm {
  mode: 'real' | 'drill';
  reason: string;
  districtIds: string[];
  geometry?: Geometry | null;
}

/** `DeclarationIn`: a real declaration carries the explicit confirmation from the dialog. */
export function declarationPayload(form: DeclarationForm, confirmed: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    mode: form.mode,
    reason: form.reason.trim(),
    district_ids: [...new Set(form.districtIds)],
    confirm: form.mode === 'real' && confirmed,
  };
  if (form.geometry) out.geometry = form.geometry;
  return out;
}

/** Every drill is shown as 【訓練】 (PRODUCT.md: drill vs real), whatever the server label says. */
export function operationTitle(op: Pick<StaffOperation, 'mode' | 'name' | 'label'>): string {
  return op.mode === 'drill' ? `${op.label || '【訓練】'}${op.name}` : op.name;
}

export const STATUS_LABEL: Record<string, MessageKey> = {
  draft: 'staff.ops.status.draft',
  active: 'ops.status.active',
  closed: 'ops.status.closed',
};


/** Districts in tree order (parent before children), with their depth, for pickers. */
export function districtTree(districts: readonly District[]): { district: District; depth: number }[] {
  const children = new Map<string | null, District[]>();
  const ids = new Set(districts.map((d) => d.id));
  for (const d of districts) {
    const parent = d.parent_id && ids.has(d.parent_id) ? d.parent_id : null;
    const list = children.get(parent) ?? [];
    list.push(d);
    children.set(parent, list);
  }
  const out: { district: District; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const d of (children.get(parent) ?? []).sort((a, b) => a.code.localeCompare(b.code))) {
      out.push({ district: d, depth });
      walk(d.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

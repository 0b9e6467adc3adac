import type { Lang } from '../i18n';

export const ROLES = ['admin', 'staff', 'coordinator', 'commissioner', 'watcher', 'vc_volunteer', 'vc_desk'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface Tenant {
  id: string;
  name: string;
  municipality_code: string;
  time_zone: string;
}

/** `GET /api/auth/me` and `POST /api/auth/login` response. */
export interface User {
  id: string;
  login: string;
  display_name: string;
  role: Role;
  district_ids: string[];
  tenant: Tenant;
  /** An admin reset the password: until a new one is chosen the API answers only me,
   *  change-password and logout, and the app shows the change screen (`/account/password`). */
  must_change_password: boolean;
}

export type LocalizedText = Partial<Record<Lang, string>>;

export interface FieldProblem {
  field: string;
  code?: string;
  message?: LocalizedText;
}

/** RFC 9457 problem details plus the server's stable `code` and bilingual `message`. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  message?: LocalizedText;
  errors?: FieldProblem[];
  request_id?: string;
  /** RFC 9457 extension members with a plain value (e.g. `distance_m`), for screens that act on them. */
  extensions?: Record<string, string | number | boolean>;
}

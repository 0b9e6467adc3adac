/**
 * Where a need being taken will be placed (pure; Vitest): the point picked on the map (or typed),
 * else the server places it at the town's representative point and marks it approximate
 * (server/vc/needs.py `_locate`), else nothing yet. The intake form says which, before saving.
 */
export type IntakeLocation =
  | { kind: 'pin'; lon: number; lat: number }
  | { kind: 'approximate'; town: string }
  | { kind: 'missing' };

/** A typed number; its range is the server's to check (a clear 400 on the field, not a silent drop). */
function coordinate(value: string): number | null {
  if (value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

export function intakeLocation(fields: { lon: string; lat: string; town: string }): IntakeLocation {
  const lon = coordinate(fields.lon);
  const lat = coordinate(fields.lat);
  if (lon !== null && lat !== null) return { kind: 'pin', lon, lat };
  const town = fields.town.trim();
  return town ? { kind: 'approximate', town } : { kind: 'missing' };
}

/** The location part of `POST …/needs`: the pin, or the town for the server to geocode. */
export function locationBody(loc: IntakeLocation): { lon: number | null; lat: number | null; town: string | null } {
  if (loc.kind === 'pin') return { lon: loc.lon, lat: loc.lat, town: null };
  if (loc.kind === 'approximate') return { lon: null, lat: null, town: loc.town };
  return { lon: null, lat: null, town: null };
}

/** A map pick as the form's text fields hold it (six decimals: ~10 cm). */
export function pickedFields(lon: number, lat: number): { lon: string; lat: string } {
  return { lon: lon.toFixed(6), lat: lat.toFixed(6) };
}

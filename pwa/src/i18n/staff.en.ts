import type { staffJa } from './staff.ja';

// Typed against staff.ja.ts: a key missing here is a compile error.
export const staffEn: Record<keyof typeof staffJa, string> = {
};

import type { fieldJa } from './field.ja';

// Typed against field.ja.ts: a key missing here is a compile error.
export const fieldEn: Record<keyof typeof fieldJa, string> = {
};

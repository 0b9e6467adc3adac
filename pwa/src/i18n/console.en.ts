import type { consoleJa } from './console.ja';

// Typed against console.ja.ts: a key missing here is a compile error.
export const consoleEn: Record<keyof typeof consoleJa, string> = {
};

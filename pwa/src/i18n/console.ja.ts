// Messages of the console screens (merged into ja.ts). Japanese is the source of truth.
export const consoleJa = {
} as const satisfies Record<string, string>;

// Messages of the field screens (merged into ja.ts). Japanese is the source of truth.
export const fieldJa = {
} as const satisfies Record<string, string>;

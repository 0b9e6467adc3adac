// Messages of the staff screens (merged into ja.ts). Japanese is the source of truth.
export const staffJa = {
} as const satisfies Record<string, string>;

import type { PageFactory } from '../router';

/** Staff screens (registry, imports, watch network, operations, audit). Lazy-loaded. */
export const staffRoutes: Record<string, PageFactory> = {};

// What the live page knows about one operation, in one typed object. The page's loaders and
// actions write it; the panels (counters, legend, filters, detail, side tabs) only read it.
import type { ApiClient } from '../../api/client';
import type { History, Summary } from './progress';
import type { MapStatus } from './status';
import type { ConnState, LiveEvent } from './stream';

export interface Escalation {
  id: string;
  household_id: string;
  level: 'urgent' | 'contact';
  outcome: string;
  status: 'open' | 'acknowledged' | 'resolved';
  mode: string;
  created_at: string;
  notes: string | null;
  assigned_to: string | null;
  assigned_to_name: string | null;
  /** Who it is about, where the viewer may see it (absent otherwise). */
  address?: string | null;
  people?: Array<{ name: string; phone: string | null }>;
}

export interface Assignee {
  id: string;
  display_name: string;
  role: string;
}

export interface TimelineItem extends Partial<LiveEvent> {
  id: number;
  kind: string;
  at: string;
  household_id: string | null;
}

export interface HouseholdDetail {
  id: string;
  address: string;
  town: string | null;
  district_id: string | null;
  people: Array<{ id: string; name: string; kana?: string; phone?: string | null; support_reasons?: string[] | null; notes?: string | null }>;
  notes?: string | null;
  disclosed_under: 'normal' | 'disaster';
}

export interface Shelter {
  id: string;
  name: string;
  is_open: boolean;
  occupancy: number;
  capacity: number | null;
}

export type Tab = 'progress' | 'escalations' | 'timeline' | 'shelters';

/** The detail panel: a household clicked on the map or in a list (loading, loaded or failed), or a shelter. */
export type Detail =
  | { id: string; data: HouseholdDetail | null; error: unknown; known: string | null }
  | { shelter: Record<string, unknown> };

export interface Filters {
  districtId: string | null;
  status: '' | MapStatus;
  /** Support reason and hazard kind are matched by the server (`matchIds`). */
  reason: string;
  hazard: string;
}

/** The timeline keeps this many entries, newest first. */
export const TIMELINE_MAX = 2000;

export interface LiveState {
  readonly opId: string;
  /** The page was left: late answers must not touch the DOM. */
  disposed: boolean;
  /** Loading the page failed: shown instead of the console. */
  fatal: unknown;
  forbidden: boolean;
  summary: Summary | null;
  history: History | null;
  escalations: Escalation[];
  assignees: Assignee[];
  /** Newest first. */
  timeline: TimelineItem[];
  /** Live events have filled the timeline, so opening its tab needs no first load. */
  timelineDirty: boolean;
  /** Where 「さらに表示」 goes on; null = nothing older. */
  olderBefore: number | null;
  shelters: Shelter[];
  conn: ConnState;
  tab: Tab;
  detail: Detail | null;
  /** Household statuses from the stream since the summary; the map and detail panel follow them. */
  liveStatus: Map<string, string>;
  /** Escalation notes being typed, kept across the panel's live re-renders. */
  drafts: Map<string, string>;
  filters: Filters;
  /** Households matching the server-side filters; null when none is set. */
  matchIds: Set<string> | null;
  actionError: string | null;
}

export function initialState(opId: string): LiveState {
  return {
    opId,
    disposed: false,
    fatal: null,
    forbidden: false,
    summary: null,
    history: null,
    escalations: [],
    assignees: [],
    timeline: [],
    timelineDirty: false,
    olderBefore: null,
    shelters: [],
    conn: { status: 'connecting', lastEventId: null, failures: 0 },
    tab: 'progress',
    detail: null,
    liveStatus: new Map(),
    drafts: new Map(),
    filters: { districtId: null, status: '', reason: '', hazard: '' },
    matchIds: null,
    actionError: null,
  };
}

export function openEscalations(state: LiveState): number {
  return state.escalations.filter((e) => e.status !== 'resolved').length;
}

/** What the panels may ask of the page, which owns loading and re-rendering. */
export interface LiveActions {
  openHousehold(id: string, known?: string | null): void;
  closeDetail(): void;
  selectTab(tab: Tab): void;
  /** Pages back through older timeline entries. */
  loadOlder(): void;
  /** Runs an escalation action, then reloads the queue; a failure is shown on the panel. */
  act(fn: (api: ApiClient) => Promise<unknown>): void;
  setFilter<K extends keyof Filters>(key: K, value: Filters[K]): void;
}

import Dexie, { type Table } from 'dexie';

export type OutboxState = 'pending' | 'sending' | 'failed' | 'dead' | 'conflict';

/** A queued visit, exactly as `POST /api/sync/push` expects it. */
export interface VisitMutation {
  type: 'visit';
  operation_id: string;
  client_id: string;
  household_id: string;
  outcome: string;
  device_time: string;
  note?: string;
}

export interface OutboxRow {
  client_id: string;
  payload: VisitMutation;
  state: OutboxState;
  attempts: number;
  /** Epoch ms; 0 = as soon as possible. */
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
}

export interface CacheRow {
  key: string;
  value: unknown;
  saved_at: number;
}

/**
 * The device database. `outbox` holds one row per mutation (never personal data beyond
 * what the mutation itself carries); `cache` holds the last server answers the field
 * pages need offline. OPEN: the cache is not encrypted at rest yet (PIN + WebCrypto).
 */
export class TonariDB extends Dexie {
  outbox!: Table<OutboxRow, string>;
  cache!: Table<CacheRow, string>;

  constructor(name = 'tonari') {
    super(name);
    this.version(1).stores({
      outbox: 'client_id, state, created_at',
      cache: 'key',
    });
  }
}

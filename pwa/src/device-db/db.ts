// The device database (IndexedDB through Dexie): one schema for everything the PWA keeps on the
// device. The outbox, the vault and the field cache each use their own table; none owns the schema.
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
  /** 避難済: where the person went (`GET /api/shelters` id). Not personal on its own. */
  shelter_id?: string;
  /** 避難済 with 「避難先がわからない」: said explicitly, so the server never sees a missing shelter. */
  shelter_unknown?: true;
  /** Device position, only if the user allowed it (never stored here: sealed in `OutboxRow.sealed`). */
  lon?: number;
  lat?: number;
}

/**
 * A disaster-VC leader's activity report (#18), queued in the same outbox as visits and sent to
 * `POST /api/vc/dispatches/{dispatch_id}/report` (the server stores a client id once).
 */
export interface VcReportMutation {
  type: 'vc_report';
  /** The VC's operation: the device's unsent counts are kept per operation. */
  operation_id: string;
  client_id: string;
  dispatch_id: string;
  /** "【訓練】" on a drill VC, so the outbox page says so. */
  label: string;
  outcome: 'done' | 'continued';
  people: number;
  hours: number;
  device_time: string;
  injuries: number;
  returns: { code: string; returned: number }[];
  /** Free text, sealed on the device like a visit's note. */
  work_done?: string | null;
  remaining?: string | null;
  near_misses?: string | null;
}

/** One outbox row's mutation: its `type` says where it is sent. */
export type OutboxMutation = VisitMutation | VcReportMutation;

/** AES-GCM ciphertext made by the vault (src/vault/): never plaintext personal data. */
export interface Sealed {
  v: 1;
  iv: Uint8Array;
  ct: ArrayBuffer;
}

/** What a visit row keeps sealed: the free-text note and the device position. */
export interface SealedVisitPart {
  note?: string;
  lon?: number;
  lat?: number;
}

/** What a report row keeps sealed: its free text. */
export interface SealedReportPart {
  work_done?: string;
  remaining?: string;
  near_misses?: string;
}

export type SealedPart = SealedVisitPart | SealedReportPart;

export interface OutboxRow {
  client_id: string;
  payload: OutboxMutation;
  state: OutboxState;
  attempts: number;
  /** Epoch ms; 0 = as soon as possible. */
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  /**
   * The personal part of the payload (a visit's note and position, a report's free text), encrypted under the vault's data key.
   * Absent for rows without such data and for rows queued without a vault (tests, old rows).
   * Opened only while the vault is unlocked, right before sending or exporting.
   */
  sealed?: Sealed;
}

export interface CacheRow {
  key: string;
  /** A `Sealed` value: every cache row holds personal or assignment data, all of it encrypted. */
  value: unknown;
  saved_at: number;
}

/** One row: the PIN-wrapped data key and the counters the wipe rules need (src/vault/). */
export interface VaultRow {
  key: 'meta';
  salt: Uint8Array;
  iterations: number;
  /** The data key wrapped with AES-KW under the PIN-derived key. */
  wrapped: ArrayBuffer;
  /** Wrong PINs in a row (persisted, so a reload does not reset the count). */
  failures: number;
  /** Last successful contact with our server (epoch ms): the no-contact wipe counts from here. */
  last_contact_at: number;
  created_at: number;
}

/**
 * The device database. `outbox` holds one row per mutation (its note and position sealed);
 * `cache` holds the last server answers the field pages need offline, every value sealed
 * (AES-GCM, src/vault/); `vault` holds the PIN-wrapped key. See docs/decisions/0008.
 */
export class TonariDB extends Dexie {
  outbox!: Table<OutboxRow, string>;
  cache!: Table<CacheRow, string>;
  vault!: Table<VaultRow, string>;

  constructor(name = 'tonari') {
    super(name);
    this.version(1).stores({
      outbox: 'client_id, state, created_at',
      cache: 'key',
    });
    // v2: encryption at rest. The v1 cache held names and addresses in plaintext: drop it
    // (it is re-downloaded after sign-in). Outbox rows are kept untouched: unsent is unsent.
    this.version(2)
      .stores({ outbox: 'client_id, state, created_at', cache: 'key', vault: 'key' })
      .upgrade((tx) => tx.table('cache').clear());
  }
}

import type {
  AccessRequest,
  AccessRequestState,
  AuditEntry,
  CameraRecord,
  NewRegisterEntry,
  RegisterEntry,
  ChainEntry,
  ChainEntryKind,
  Checkpoint,
  KeyRotation,
  RegisteredKey,
  EvidenceHold,
  ExportJob,
  ExportJobState,
  OnvifDeviceRecord,
  PendingChange,
  PendingChangeState,
  PublicRequest,
  PublicRequestState,
  RecordingGap,
  Role,
} from '../domain/index.js';

/** The repositories of a store; a transaction offers the same ones, bound to it. */
export interface StoreRepositories {
  readonly cameras: CameraRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly onvif: OnvifDeviceRepository;
  readonly outages: OutageRepository;
  readonly platformOutages: PlatformOutageRepository;
  readonly maintenance: MaintenanceRepository;
  readonly alertOutbox: AlertOutboxRepository;
  readonly filings: FilingRepository;
  /** Recording index: segment hash chains, checkpoints, gaps, evidence holds. */
  readonly recordings: RecordingRepository;
  /** People and machines that call the gateway: users, their login sessions, their API keys. */
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly signingKeys: SigningKeyRepository;
  /** Access requests to footage and their decisions. */
  readonly accessRequests: AccessRequestRepository;
  /** The access register: append-only, no update or delete. */
  readonly accessRegister: AccessRegisterRepository;
  /** Export jobs: watermarked, signed clips cut from recordings. */
  readonly exportJobs: ExportJobRepository;
  /** Changes that weaken protection, waiting for a second admin (four eyes). */
  readonly pendingChanges: PendingChangeRepository;
  /** Requests from the public (guardians, citizens), their police decision and result. */
  readonly publicRequests: PublicRequestRepository;
  /** Failed-login counters and locks, per username and per source address. */
  readonly lockouts: LockoutRepository;
  /** GB/T 28181 upper platforms added through the API (config-file ones live in the config). */
  readonly platforms: PlatformRepository;
  /** The web console's saved wall layouts, per user. */
  readonly walls: WallRepository;
  /** Cluster mode (PostgreSQL only): node heartbeats, camera leases and their fencing epochs. */
  readonly cluster: ClusterRepository;
  /** Platform link leases (PostgreSQL only, like `cluster`). */
  readonly linkLeases: LinkLeaseRepository;
}

/**
 * The repositories inside one transaction. Use them only while its work runs: once the
 * transaction has ended, every call fails.
 */
export type StoreTx = StoreRepositories;

/**
 * The one interface behind which all state lives. SQLite is the embedded default;
 * a PostgreSQL implementation plugs in behind the same methods, so every method is
 * async even where SQLite would not need it.
 */
export interface Store extends StoreRepositories {
  /**
   * Runs `work` in one transaction: everything it writes through `tx` is committed when
   * it resolves, and rolled back when it throws (the error is passed on). Statements made
   * through the store itself (outside `tx`) never land inside the transaction: on SQLite
   * they wait until it has ended; on PostgreSQL they run on another connection.
   *
   * Transactions do not nest: calling `transaction()`, or a statement on the store
   * itself rather than on `tx`, from inside `work` is rejected with an error that says so
   * (on SQLite it could only wait for itself). Pass `tx` down instead.
   */
  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Apply pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface CameraListQuery {
  limit?: number;
  offset?: number;
}

export interface CameraRepository {
  /** Throws GatewayError CAMERA_EXISTS when the id is taken. */
  insert(camera: CameraRecord): Promise<void>;
  /** Replaces the stored record with the given one (same id); throws CAMERA_NOT_FOUND. */
  replace(camera: CameraRecord): Promise<void>;
  get(id: string): Promise<CameraRecord | undefined>;
  list(query?: CameraListQuery): Promise<CameraRecord[]>;
  count(): Promise<number>;
  /** True when a row was removed. */
  remove(id: string): Promise<boolean>;
  /** Highest 6-digit serial used among IDs starting with the given 14-digit prefix, or 0. */
  maxSerial(prefix14: string): Promise<number>;
}

/**
 * The audit log is an append-only hash chain: append links the entry to the head (the
 * store serialises appenders, so seq has no holes). There is deliberately no update or
 * delete: a changed or removed row shows up in verifyAuditChain.
 */
export interface AuditRepository {
  append(entry: AuditEntry): Promise<void>;
  list(query?: { cameraId?: string; action?: string; limit?: number }): Promise<AuditEntry[]>;
  /** Entries in stored (id) order with their chain fields; `from`/`to` bound `at` (inclusive). */
  chain(query?: { from?: string; to?: string }): Promise<AuditEntry[]>;
  /**
   * Records a signed checkpoint of the chain head (v2, `cameraId` 'audit'). With `after`
   * (the newest checkpoint the signer chained to, null: none), only while that is still the
   * newest: false when another node signed first.
   */
  addCheckpoint(c: Checkpoint, after?: Checkpoint | null): Promise<boolean>;
  /** Every checkpoint, ascending seq. */
  checkpoints(): Promise<Checkpoint[]>;
}

export interface AccessRequestQuery {
  state?: AccessRequestState;
  limit?: number;
}

/** The fields a state change sets (the rest of a request never changes after filing). */
export interface AccessRequestTransition {
  state: AccessRequestState;
  decidedBy?: string;
  decidedAt?: string;
  decisionReason?: string;
  validFrom?: string;
  validUntil?: string;
  revokedBy?: string;
  revokedAt?: string;
  revokeReason?: string;
}

export interface AccessRequestRepository {
  insert(request: AccessRequest): Promise<void>;
  get(id: string): Promise<AccessRequest | undefined>;
  list(query?: AccessRequestQuery): Promise<AccessRequest[]>;
  /** Applies the change only while the request is still in state `from`; false when it no longer is. */
  transition(id: string, from: AccessRequestState, change: AccessRequestTransition): Promise<boolean>;
}

/** Register rows whose retrieval overlaps [from, to] (ISO, inclusive), optionally of one camera. */
export interface RegisterQuery {
  from?: string;
  to?: string;
  cameraId?: string;
  limit?: number;
}

/** Insert and list only: a register row, once written, never changes (qingdao-2020 Art. 24). */
export interface AccessRegisterRepository {
  /** Stores the row; resolves to it with its id. */
  insert(entry: NewRegisterEntry): Promise<RegisterEntry>;
  /** Oldest first (by start, then id). */
  list(query?: RegisterQuery): Promise<RegisterEntry[]>;
}

export interface ExportJobQuery {
  userId?: string;
  state?: ExportJobState;
  limit?: number;
  /** Jobs this node runs: those it was asked for, and those that name no node. */
  runnableBy?: string;
}

/** What a job's progress and end set (the rest never changes after creation). */
export type ExportJobChange = Partial<
  Pick<ExportJob, 'state' | 'progress' | 'clip' | 'manifest' | 'clipBytes' | 'clipSha256' | 'error' | 'startedAt' | 'finishedAt'>
>;

export interface ExportJobRepository {
  insert(job: ExportJob): Promise<void>;
  get(id: string): Promise<ExportJob | undefined>;
  list(query?: ExportJobQuery): Promise<ExportJob[]>;
  /** Applies the change only while the job is still in state `from`; false when it no longer is. */
  update(id: string, from: ExportJobState, change: ExportJobChange): Promise<boolean>;
}

export interface PendingChangeQuery {
  state?: PendingChangeState;
  limit?: number;
}

/** A decision on a pending change (the rest of it never changes after filing). */
export interface PendingChangeTransition {
  state: PendingChangeState;
  decidedBy?: string;
  decidedAt?: string;
  decisionReason?: string;
}

export interface PendingChangeRepository {
  insert(change: PendingChange): Promise<void>;
  get(id: string): Promise<PendingChange | undefined>;
  /** Newest first. */
  list(query?: PendingChangeQuery): Promise<PendingChange[]>;
  /** Applies the decision only while the change is still in state `from`; false when it no longer is. */
  transition(id: string, from: PendingChangeState, change: PendingChangeTransition): Promise<boolean>;
}

/** A GB/T 28181 upper platform added through the API; its password only as a sealed box. */
export interface PlatformRecord {
  /** Its name: the API id and the metrics label. */
  id: string;
  /** Every setting but the password (JSON). */
  settings: Record<string, unknown>;
  passwordBox: string;
  /** pending: waits for a second admin; active: the link runs. */
  state: 'pending' | 'active';
  pendingChangeId: string | null;
  createdBy: string;
  createdAt: string;
}

export interface PlatformRepository {
  insert(record: PlatformRecord): Promise<void>;
  get(id: string): Promise<PlatformRecord | undefined>;
  /** Oldest first. */
  list(): Promise<PlatformRecord[]>;
  update(id: string, change: Partial<Pick<PlatformRecord, 'settings' | 'state' | 'pendingChangeId'>>): Promise<boolean>;
  delete(id: string): Promise<boolean>;
}

/** The fields a decision or a result sets (the intake never changes after filing). */
export type PublicRequestTransition = { state: PublicRequestState } & Partial<
  Pick<
    PublicRequest,
    'decision' | 'decidedBy' | 'decidedAt' | 'decisionReason' | 'accessRequestId' | 'result' | 'resultNotes' | 'resultBy' | 'resultAt'
  >
>;

export interface PublicRequestRepository {
  insert(request: PublicRequest): Promise<void>;
  get(id: string): Promise<PublicRequest | undefined>;
  /** Newest first; `from`/`to` bound the filing time (ISO, [from, to)). */
  list(query?: { from?: string; to?: string; limit?: number }): Promise<PublicRequest[]>;
  /** Applies the change only while the request is still in state `from`; false when it no longer is. */
  transition(id: string, from: PublicRequestState, change: PublicRequestTransition): Promise<boolean>;
}

/** One lockout counter: `key` is `user:<name>` or `addr:<address>`. */
export interface LockoutRecord {
  key: string;
  failures: number;
  lockedUntilMs: number;
  touchedMs: number;
}

export interface LockoutRepository {
  list(): Promise<LockoutRecord[]>;
  /** Inserts or replaces the counter of `record.key`. */
  put(record: LockoutRecord): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/** ONVIF facts of onboarded cameras (see store/onvifRepository.ts). */
export interface OnvifDeviceRepository {
  /** Inserts or replaces the row of `record.cameraId`. */
  upsert(record: OnvifDeviceRecord): Promise<void>;
  get(cameraId: string): Promise<OnvifDeviceRecord | undefined>;
  list(): Promise<OnvifDeviceRecord[]>;
  /** The camera already onboarded from this device: same endpoint reference, else same serial number. */
  findByIdentity(identity: { endpointRef?: string | null; serialNumber?: string | null }): Promise<OnvifDeviceRecord | undefined>;
  /** A discovery sweep saw the device; fills the endpoint reference when it was not known. */
  markSeen(cameraId: string, at: string, endpointRef: string | null): Promise<void>;
  remove(cameraId: string): Promise<boolean>;
}

/** One stop of a camera in the outage ledger (an incident that left it dark or unusable). */
export interface OutageRecord {
  id: number;
  cameraId: string;
  /** The incident kind that opened it: `camera_down`, `image_black`, … */
  kind: string;
  /** Why: `unreachable`, `credentials_refused`, `stream_stalled`, `decode_error`, an image kind, … */
  cause: string;
  /** ISO times; `endedAt` is null while the outage lasts. */
  startedAt: string;
  endedAt: string | null;
  /** It started inside a declared maintenance window. */
  planned: boolean;
  details: Record<string, unknown>;
}

export interface OutageQuery {
  /** ISO times: outages overlapping [from, to). */
  from?: string;
  to?: string;
  cameraId?: string;
}

export interface OutageRepository {
  /** Records the start of an outage; resolves to its id. */
  open(outage: Omit<OutageRecord, 'id' | 'endedAt'>): Promise<number>;
  setCause(id: number, cause: string): Promise<void>;
  /** True when it was open. */
  close(id: number, endedAt: string): Promise<boolean>;
  /** Outages not ended yet, oldest first. */
  openOnes(): Promise<OutageRecord[]>;
  /** Oldest first. */
  list(query?: OutageQuery): Promise<OutageRecord[]>;
}

/** One loss of the link to an upper platform (GB/T 28181) in the outage ledger. */
export interface PlatformOutageRecord {
  id: number;
  /** The platform's configured name. */
  platform: string;
  /** The incident kind that opened it: `platform_down:<name>`. */
  kind: string;
  /** Why, as the link said: `3 keepalives unanswered`, a refusal, no answer to REGISTER, … */
  cause: string;
  startedAt: string;
  endedAt: string | null;
  details: Record<string, unknown>;
}

export interface PlatformOutageRepository {
  open(outage: Omit<PlatformOutageRecord, 'id' | 'endedAt'>): Promise<number>;
  /** True when it was open. */
  close(id: number, endedAt: string): Promise<boolean>;
  openOnes(): Promise<PlatformOutageRecord[]>;
  /** Oldest first; ISO times: outages overlapping [from, to). */
  list(query?: { from?: string; to?: string; platform?: string }): Promise<PlatformOutageRecord[]>;
}

/** Maintenance declared ahead: an outage starting inside it is planned. `cameraId` null: every camera. */
export interface MaintenanceWindow {
  id: number;
  cameraId: string | null;
  startsAt: string;
  endsAt: string;
  reason: string;
  createdBy: string;
  createdAt: string;
}

export interface MaintenanceRepository {
  add(window: Omit<MaintenanceWindow, 'id'>): Promise<MaintenanceWindow>;
  /** Windows overlapping [from, to) (all when unset), by start. */
  list(query?: { from?: string; to?: string }): Promise<MaintenanceWindow[]>;
  /** A window covering that camera (or all cameras) at that time. */
  covering(cameraId: string, at: string): Promise<MaintenanceWindow | undefined>;
  remove(id: number): Promise<boolean>;
}

/** One alert to deliver to one target, kept until delivered so nothing is lost across restarts. */
export interface OutboxEntry {
  id: number;
  /** Stable across retries: the receiver's idempotency key. */
  eventId: string;
  target: string;
  body: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  deliveredAt: string | null;
  lastError: string | null;
  /** Times the receiver refused it (a 4xx other than 408/429); from the first, it no longer holds up the target's queue. */
  rejections: number;
  /** Set when it was given up on after too many rejections (a dead letter). */
  deadAt: string | null;
  /** The receiver's last HTTP status and the start of its answer, when it answered. */
  lastStatus: number | null;
  lastResponse: string | null;
}

/** Why a receiver did not take an entry. */
export interface DeliveryFailure {
  error: string;
  status: number | null;
  response: string | null;
}

export interface AlertOutboxRepository {
  /** False when that event was already queued for that target. */
  enqueue(entry: { eventId: string; target: string; body: string; createdAt: string }): Promise<boolean>;
  /**
   * The oldest undelivered entry of a target never rejected, nor dead (deliveries to a
   * target keep their order while the receiver is merely unreachable).
   */
  oldestPending(target: string): Promise<OutboxEntry | undefined>;
  /** The oldest rejected, not yet dead entry of a target whose next attempt is due at `now`. */
  dueRejected(target: string, now: string): Promise<OutboxEntry | undefined>;
  /** The earliest next attempt among a target's rejected, not yet dead entries. */
  nextRejectedAt(target: string): Promise<string | undefined>;
  markDelivered(id: number, at: string): Promise<void>;
  markFailed(id: number, failure: DeliveryFailure, nextAttemptAt: string): Promise<void>;
  /** A refusal: counted, and the entry stops holding up the queue. */
  markRejected(id: number, failure: DeliveryFailure, nextAttemptAt: string): Promise<void>;
  /** Gives up on an entry: it stays stored as a dead letter until pruned. */
  markDead(id: number, failure: DeliveryFailure, at: string): Promise<void>;
  /** Undelivered entries, dead letters excluded. */
  pendingCount(): Promise<number>;
  /** Targets with undelivered entries (dead letters excluded). */
  pendingTargets(): Promise<string[]>;
  /** Dead letters, newest first. */
  deadLetters(query?: { target?: string; limit?: number }): Promise<OutboxEntry[]>;
  /** Dead letters per target. */
  deadLetterCounts(): Promise<Record<string, number>>;
  /** Deletes entries delivered before `deliveredBefore` and dead letters given up before `deadBefore`; returns how many. */
  prune(cutoffs: { deliveredBefore: string; deadBefore: string }): Promise<number>;
}

export type FilingEvent = 'commissioning' | 'removal';

/** A filing (备案) with the police that the owner reports having made. */
export interface FilingRecord {
  id: number;
  cameraId: string;
  event: FilingEvent;
  /** YYYY-MM-DD or ISO time. */
  filedAt: string;
  reference: string | null;
  createdAt: string;
}

export interface FilingRepository {
  add(filing: Omit<FilingRecord, 'id'>): Promise<FilingRecord>;
  list(query?: { cameraId?: string }): Promise<FilingRecord[]>;
}

/** Recording index: segment hash chains, checkpoints, gaps, evidence holds (store/sqlRecordings.ts). */
export interface EntryQuery {
  cameraId?: string;
  kind?: ChainEntryKind;
  /** Entries overlapping [fromMs, toMs]. */
  fromMs?: number;
  toMs?: number;
}

export interface RecordingRepository {
  /** The newest entry of a camera's chain. */
  head(cameraId: string): Promise<ChainEntry | undefined>;
  /** Appends a link; a taken (camera, seq) is a unique violation. */
  append(entry: ChainEntry): Promise<void>;
  entry(cameraId: string, seq: number): Promise<ChainEntry | undefined>;
  /** The camera's newest segment entry (deleted or not). */
  lastSegment(cameraId: string): Promise<ChainEntry | undefined>;
  /** Ordered by camera, then seq. */
  entries(query?: EntryQuery): Promise<ChainEntry[]>;
  /** The camera's segments still stored that ended at or before `endMs`, by seq (read through an index, not the whole chain). */
  liveSegmentsEndingBy(cameraId: string, endMs: number): Promise<ChainEntry[]>;
  markDeleted(cameraId: string, seq: number, at: string): Promise<void>;
  /** Deleted segments `node` wrote whose file it has not yet removed (through a partial index of those only), by camera and seq. */
  pendingFileRemovals(node: string, limit: number): Promise<ChainEntry[]>;
  /** The node holding a deleted segment's file has removed it. */
  markFileRemoved(cameraId: string, seq: number, at: string): Promise<void>;
  cameraIds(): Promise<string[]>;
  /** Bytes of the segments still on disk. */
  storedBytes(): Promise<number>;
  addCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** Oldest first. */
  checkpoints(cameraId: string): Promise<Checkpoint[]>;
  /** Signing key rotations, oldest first. */
  addKeyRotation(rotation: KeyRotation): Promise<void>;
  keyRotations(): Promise<KeyRotation[]>;
  /** The nodes' signing keys (migration 27); a taken fingerprint is a unique violation. */
  registerKey(key: RegisteredKey): Promise<void>;
  /** Marks a key retired; false when no such unretired key. */
  retireKey(fingerprint: string, at: string): Promise<boolean>;
  /** One node (SQLite) whose name changed keeps its key under the new name. */
  renameKeyNode(fingerprint: string, node: string): Promise<void>;
  /** Oldest first. */
  signingKeys(): Promise<RegisteredKey[]>;
  openGap(cameraId: string, startMs: number, cause: string): Promise<void>;
  /** Ends the camera's open gap, if any. */
  closeGap(cameraId: string, endMs: number): Promise<void>;
  gaps(cameraId: string, fromMs: number, toMs: number): Promise<RecordingGap[]>;
  createHold(hold: Omit<EvidenceHold, 'id' | 'liftedBy' | 'liftedAt' | 'liftReason'>): Promise<EvidenceHold>;
  holds(): Promise<EvidenceHold[]>;
  liftHold(id: number, by: string, at: string, reason: string): Promise<EvidenceHold | undefined>;
}

/** A person (or the bootstrap admin) who may call the gateway. */
export interface UserRecord {
  id: string;
  username: string;
  displayName: string | null;
  unit: string | null;
  credentialNo: string | null;
  roles: Role[];
  /** argon2id PHC string; null: the user cannot log in with a password (the bootstrap admin). */
  passwordHash: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export type UserChanges = Partial<Pick<UserRecord, 'displayName' | 'unit' | 'credentialNo' | 'roles' | 'passwordHash' | 'disabled'>>;

export interface UserRepository {
  /** Throws GatewayError USER_EXISTS when the username is taken. */
  insert(user: UserRecord): Promise<void>;
  get(id: string): Promise<UserRecord | undefined>;
  byUsername(username: string): Promise<UserRecord | undefined>;
  /** By username. */
  list(): Promise<UserRecord[]>;
  /** The updated record, or undefined when there is no such user. */
  update(id: string, changes: UserChanges, at: string): Promise<UserRecord | undefined>;
}

/** One login: its refresh token (stored as SHA-256 only) and whether it was ended. */
export interface SessionRecord {
  id: string;
  userId: string;
  refreshSha256: string;
  sourceAddress: string | null;
  createdAt: string;
  /** When the refresh token stops working. */
  expiresAt: string;
  revokedAt: string | null;
}

export interface SessionRepository {
  insert(session: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | undefined>;
  byRefreshDigest(sha256: string): Promise<SessionRecord | undefined>;
  /** Swaps the refresh token only when `oldSha256` is still the current one (a used token cannot be used twice); true when swapped. */
  rotateRefresh(id: string, oldSha256: string, newSha256: string, expiresAt: string): Promise<boolean>;
  /** True when it was not revoked before. */
  revoke(id: string, at: string): Promise<boolean>;
  /** Ends every open session of a user (disabled, password changed); returns how many. */
  revokeAllOf(userId: string, at: string): Promise<number>;
}

/** A machine's key: acts for its user with a subset of that user's roles. Only its SHA-256 is stored. */
export interface ApiKeyRecord {
  id: string;
  userId: string;
  name: string;
  keySha256: string;
  roles: Role[];
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeyRepository {
  insert(key: ApiKeyRecord): Promise<void>;
  /** Inserts the key or replaces the digest, roles and name of the one with that id (the bootstrap admin's key). */
  upsert(key: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  byDigest(sha256: string): Promise<ApiKeyRecord | undefined>;
  /** All keys, or a user's; newest first. */
  list(query?: { userId?: string }): Promise<ApiKeyRecord[]>;
  /** Records a use, at most once per `minIntervalMs` (no write on every call). */
  touch(id: string, at: string, minIntervalMs: number): Promise<void>;
  /** True when it was not revoked before. */
  revoke(id: string, at: string): Promise<boolean>;
}

/** A key that signs session tokens, sealed with the master secret. */
export interface SigningKeyRecord {
  kid: string;
  sealed: string;
  createdAt: string;
}

export interface SigningKeyRepository {
  add(key: SigningKeyRecord): Promise<void>;
  /** Oldest first. */
  list(): Promise<SigningKeyRecord[]>;
  remove(kid: string): Promise<boolean>;
}

/** One saved wall of the web console: a user's named layout and the camera of each tile. */
export interface WallRecord {
  userId: string;
  name: string;
  layout: number;
  /** Camera IDs by tile; null: an empty tile. */
  tiles: Array<string | null>;
  updatedAt: string;
}

export interface WallRepository {
  /** A user's walls by name. */
  list(userId: string): Promise<WallRecord[]>;
  /** Inserts or replaces the user's wall of that name. */
  put(wall: WallRecord): Promise<void>;
  /** True when a wall was removed. */
  remove(userId: string, name: string): Promise<boolean>;
}

/** One node's heartbeat. */
export interface NodeBeat {
  name: string;
  apiUrl: string | null;
  /** Where its media server answers viewers (`http://host:port`); absent: not told. */
  mediaUrl?: string | null;
  weight: number;
  /** A node whose last beat is older than this is not alive. */
  aliveMs: number;
}

export interface ClusterNodeRecord {
  name: string;
  apiUrl: string | null;
  mediaUrl: string | null;
  weight: number;
  cordoned: boolean;
  draining: boolean;
  lastSeen: string;
  alive: boolean;
}

export interface LeaseRecord {
  cameraId: string;
  /** null: released. */
  owner: string | null;
  epoch: number;
  expiresAt: string;
  /** Owned and not expired, by the database's clock. */
  valid: boolean;
}

export interface HeldLease {
  cameraId: string;
  /** The fencing token: grows by one at every claim of the camera. */
  epoch: number;
}

export interface LeaseEvent {
  cameraId: string;
  node: string;
  epoch: number;
  event: 'claimed' | 'released';
  at: string;
}

/** Leases and heartbeats, all timed by the database's clock (PostgreSQL only). */
export interface ClusterRepository {
  /** Records the node's heartbeat; returns its row (cordoned, draining as set through the API). */
  beat(beat: NodeBeat): Promise<ClusterNodeRecord>;
  nodes(aliveMs: number): Promise<ClusterNodeRecord[]>;
  /** False when there is no such node. */
  setNodeFlags(name: string, flags: { cordoned: boolean; draining: boolean }): Promise<boolean>;
  leases(): Promise<LeaseRecord[]>;
  /**
   * Extends the node's leases (`held`: only those, at those epochs; none given: every lease the node owns), expired
   * or not, as long as no other node has claimed them since; returns the leases it still holds.
   */
  renew(node: string, ttlMs: number, held?: readonly HeldLease[]): Promise<HeldLease[]>;
  /** Takes the camera's lease when it is free or expired (a row locked elsewhere is skipped); null when not taken. */
  claim(node: string, cameraId: string, ttlMs: number): Promise<HeldLease | null>;
  /**
   * `claim` for several cameras in one statement (one round trip): returns those taken. Another node's expired
   * lease is taken only once the server has been up for `ttlMs` (its owner renews first after a restart).
   */
  claimBatch(node: string, cameraIds: readonly string[], ttlMs: number): Promise<HeldLease[]>;
  /** Gives the lease up at once, if the node still holds it at that epoch. */
  release(node: string, cameraId: string, epoch: number): Promise<boolean>;
  /** Inside a transaction: true while the node holds the lease at that epoch, locking it until the transaction ends. */
  fence(cameraId: string, node: string, epoch: number): Promise<boolean>;
  /** Claims and releases, oldest first. */
  history(cameraId?: string): Promise<LeaseEvent[]>;
}

/** A platform link lease this node holds. */
export interface HeldLinkLease {
  link: string;
  epoch: number;
}

/** Who holds each upstream platform link (migration 28), timed by the database's clock (PostgreSQL only). */
export interface LinkLeaseRepository {
  /** Extends every link lease the node still owns, expired or not (nobody claimed it since); returns them. */
  renew(node: string, ttlMs: number): Promise<HeldLinkLease[]>;
  /** Takes the link's lease when free, or expired (another node's only once the server has been up a lease time; a row locked elsewhere is skipped); null when not taken. */
  claim(node: string, link: string, ttlMs: number): Promise<HeldLinkLease | null>;
  /** Gives the lease up at once, if the node still holds it at that epoch. */
  release(node: string, link: string, epoch: number): Promise<boolean>;
  /** Every link's holder now (null: free or expired). */
  holders(): Promise<Array<{ link: string; owner: string | null; epoch: number }>>;
  /** Inside a transaction: true while the node holds the link's lease at that epoch, locking it until the transaction ends. */
  fence(link: string, node: string, epoch: number): Promise<boolean>;
}

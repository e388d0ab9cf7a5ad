/**
 * The shapes of the API calls the web console makes, in one module without imports that
 * both the gateway (tsconfig.json) and the console (web/tsconfig.json) compile: the routes
 * build their answers as these types and the console reads them as these types, so a
 * change on one side that the other does not follow fails `npm run typecheck`.
 */

/** Filters of GET /api/v1/cameras; every one optional. */
export interface CameraListQuery {
  limit?: number;
  offset?: number;
  /** Part of the name, ID or address, any case. */
  q?: string;
  /** The live state (see CameraState). */
  state?: string;
  siteType?: string;
}

export const CAMERA_STATES = ['live', 'starting', 'stalled', 'backoff', 'stopped', 'refused'] as const;
export type CameraState = (typeof CAMERA_STATES)[number];

export interface CameraStatus {
  state: string;
  reason: string | null;
}

/** Frame rate and bitrate of the camera's ingest now (0 when not live), and its open incidents. */
export interface CameraHealth {
  fps: number;
  bitrateBps: number;
  openIncidents: number;
}

/** The fields of a listed camera the console shows. */
export interface CameraListItem {
  id: string;
  name: string;
  siteType: string;
  address: string | null;
  enabled: boolean;
  commissionedAt: string | null;
  signageInstalled: boolean;
  /** A demo camera fed by the built-in test source (`psvgw demo`), left out of the reports. */
  demo: boolean;
  status: CameraStatus;
  health: CameraHealth;
  /**
   * The camera's filing with the police as the filing report has it, the most pressing of its
   * deadlines (overdue, due, filed late, filed); null where the profile sets no deadline.
   */
  filing: FilingState | null;
}

export type FilingState = 'filed' | 'filed_late' | 'due' | 'overdue';

export interface CameraPage<Item extends CameraListItem = CameraListItem> {
  items: Item[];
  total: number;
  limit: number;
  offset: number;
}

export interface StreamUrls {
  httpFlv: string;
  wsFlv: string;
  expiresAt: string;
}

export interface CameraStreams {
  cameraId: string;
  shared: StreamUrls;
  raw: StreamUrls | { refused: string };
}

/** POST /api/v1/auth/login with `session: 'cookie'` answers this and sets the session cookies. */
export interface CookieGrant {
  expiresAt: string;
  refreshExpiresAt: string;
  session: 'cookie';
}

/** The wall's layouts: square grids, and 6 and 8 with one large tile. */
export const WALL_LAYOUTS = [1, 4, 6, 8, 9, 16] as const;
export type WallLayoutSize = (typeof WALL_LAYOUTS)[number];

/** A saved wall layout of one user: its size and the camera of each tile (null: empty). */
export interface SavedWall {
  name: string;
  layout: WallLayoutSize;
  tiles: Array<string | null>;
  updatedAt: string;
}

/**
 * GET /api/v1/audit/verify (audit.read: auditor, admin): the check `psvgw audit verify` runs,
 * on the running gateway's store, with its signing keys. `firstBadIndex` is the seq of the
 * first bad entry (null when no row is left to name), `reason` its finding's kind.
 */
export interface AuditVerifyResult {
  ok: boolean;
  /** Chained entries checked. */
  entries: number;
  /** Rows from before the chain existed, not yet chained. */
  pending: number;
  head: { seq: number; entryHash: string } | null;
  checkpoints: number;
  /** The newest seq a signed checkpoint covers (0: none). */
  signedSeq: number;
  /** Findings in all; the first is named below. */
  problems: number;
  firstBadIndex?: number | null;
  reason?: string;
  message?: string;
}

/** One node of a cluster (GET /api/v1/nodes → `{ items: ClusterNodeView[] }`); a single gateway lists itself. */
export interface ClusterNodeView {
  name: string;
  alive: boolean;
  /** The cameras whose lease the node holds. */
  cameraIds: string[];
  /** Takes no new camera. */
  cordoned: boolean;
  /** Hands its cameras over, one at a time. */
  draining: boolean;
  lastSeen: string;
  weight: number;
  apiUrl: string | null;
  /** Where the node's media server answers viewers (cluster mode). */
  mediaUrl?: string | null;
}

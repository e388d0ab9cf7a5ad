import { GatewayError } from '../errors.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import { SqliteWorkerStore } from './sqliteWorker.js';
import type { Store } from './store.js';

export type {
  AccessRegisterRepository,
  RegisterQuery,
  AccessRequestQuery,
  AccessRequestRepository,
  AccessRequestTransition,
  AlertOutboxRepository,
  ApiKeyRecord,
  ApiKeyRepository,
  AuditRepository,
  CameraListQuery,
  CameraRepository,
  ExportJobChange,
  ExportJobQuery,
  ExportJobRepository,
  FilingEvent,
  FilingRecord,
  FilingRepository,
  MaintenanceRepository,
  MaintenanceWindow,
  EntryQuery,
  OnvifDeviceRepository,
  OutageQuery,
  OutageRecord,
  OutageRepository,
  PlatformOutageRecord,
  PlatformOutageRepository,
  OutboxEntry,
  PendingChangeQuery,
  PendingChangeRepository,
  PendingChangeTransition,
  PlatformRecord,
  PlatformRepository,
  PublicRequestRepository,
  PublicRequestTransition,
  LockoutRecord,
  LockoutRepository,
  WallRecord,
  WallRepository,
  ClusterNodeRecord,
  ClusterRepository,
  HeldLease,
  HeldLinkLease,
  LinkLeaseRepository,
  LeaseEvent,
  LeaseRecord,
  NodeBeat,
  DeliveryFailure,
  RecordingRepository,
  SessionRecord,
  SessionRepository,
  SettingsRepository,
  SigningKeyRecord,
  SigningKeyRepository,
  UserChanges,
  UserRecord,
  UserRepository,
  Store,
  StoreRepositories,
  StoreTx,
} from './store.js';

export { SqliteStore, type SqliteStoreOptions, type SqliteSynchronous } from './sqlite.js';
export { SqliteWorkerStore, type SqliteWorkerStoreOptions } from './sqliteWorker.js';
export { PostgresStore, isDatabaseUnreachable, type PostgresStoreOptions } from './postgres.js';
export { MIGRATIONS, LATEST_VERSION, type Dialect, type Migration } from './migrations.js';
export {
  AUDIT_CHAIN_ID,
  checkAuditChain,
  verifyAuditChain,
  type AuditProblem,
  type AuditProblemKind,
  type AuditVerification,
} from './auditChain.js';

export interface OpenStoreOptions {
  driver: 'sqlite' | 'postgres';
  sqlitePath: string;
  postgresUrl?: string;
  /** SQLite on a worker thread (the default) or on the event loop. */
  sqliteWorker?: boolean;
  /** Called once if the store is lost for good while open (the SQLite thread died). */
  onLost?: (reason: Error) => void;
}

/** Opens the configured store and applies pending migrations; the caller closes it. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  let store: Store;
  switch (opts.driver) {
    case 'sqlite':
      store =
        opts.sqliteWorker === false ? new SqliteStore(opts.sqlitePath) : new SqliteWorkerStore(opts.sqlitePath, { onLost: opts.onLost });
      break;
    case 'postgres':
      if (opts.postgresUrl === undefined || opts.postgresUrl === '') {
        throw new GatewayError('CONFIG_INVALID', 'store.driver is postgres but store.postgresUrl is not set', {
          hint: 'Set store.postgresUrl, e.g. postgres://psvgw@db.example:5432/psvgw, or set store.driver to sqlite.',
        });
      }
      store = new PostgresStore(opts.postgresUrl);
      break;
    default:
      throw new GatewayError('CONFIG_INVALID', `unknown store.driver ${JSON.stringify(opts.driver)}`, {
        hint: "Set store.driver to 'sqlite' or 'postgres'.",
      });
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

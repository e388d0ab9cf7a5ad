import { AsyncLocalStorage } from 'node:async_hooks';
import {
  SqlAlertOutboxRepository,
  SqlFilingRepository,
  SqlMaintenanceRepository,
  SqlOutageRepository,
  SqlPlatformOutageRepository,
} from './healthRepositories.js';
import { SqlAccessRequestRepository } from './accessRequestRepository.js';
import { SqlAccessRegisterRepository } from './accessRegisterRepository.js';
import { SqlExportJobRepository } from './exportJobRepository.js';
import { SqlOnvifDeviceRepository } from './onvifRepository.js';
import { SqlPendingChangeRepository } from './pendingChangeRepository.js';
import { SqlPublicRequestRepository } from './publicRequestRepository.js';
import { SqlLockoutRepository } from './lockoutRepository.js';
import { SqlPlatformRepository } from './platformRepository.js';
import { SqlWallRepository } from './wallRepository.js';
import { SqlClusterRepository } from './clusterRepository.js';
import { SqlLinkLeaseRepository } from './linkLeaseRepository.js';
import { SqlRecordingRepository } from './sqlRecordings.js';
import { SqlApiKeyRepository, SqlSessionRepository, SqlSigningKeyRepository, SqlUserRepository } from './userRepositories.js';
import {
  SqlAuditRepository,
  SqlCameraRepository,
  SqlSettingsRepository,
  type AuditSerialiser,
  type SqlExecutor,
  type SqlValue,
} from './sqlRepositories.js';
import type {
  AccessRequestRepository,
  AccessRegisterRepository,
  ExportJobRepository,
  AlertOutboxRepository,
  ApiKeyRepository,
  AuditRepository,
  CameraRepository,
  FilingRepository,
  MaintenanceRepository,
  OnvifDeviceRepository,
  OutageRepository,
  PlatformOutageRepository,
  PendingChangeRepository,
  PublicRequestRepository,
  LockoutRepository,
  PlatformRepository,
  WallRepository,
  ClusterRepository,
  LinkLeaseRepository,
  RecordingRepository,
  SessionRepository,
  SettingsRepository,
  SigningKeyRepository,
  Store,
  StoreRepositories,
  UserRepository,
  StoreTx,
} from './store.js';

/** The transaction whose work is running in the current async context, if any. */
interface TxScope {
  store: SqlStore;
  open: boolean;
}
const txScope = new AsyncLocalStorage<TxScope>();

/** Every repository, built on one executor (the store's own, or a transaction's). */
function repositoriesOn(executor: SqlExecutor, auditSerialiser: AuditSerialiser): StoreRepositories {
  return {
    cameras: new SqlCameraRepository(executor, auditSerialiser),
    audit: new SqlAuditRepository(executor, auditSerialiser),
    settings: new SqlSettingsRepository(executor),
    onvif: new SqlOnvifDeviceRepository(executor),
    outages: new SqlOutageRepository(executor),
    platformOutages: new SqlPlatformOutageRepository(executor),
    maintenance: new SqlMaintenanceRepository(executor),
    alertOutbox: new SqlAlertOutboxRepository(executor),
    filings: new SqlFilingRepository(executor),
    recordings: new SqlRecordingRepository(executor),
    users: new SqlUserRepository(executor),
    sessions: new SqlSessionRepository(executor),
    apiKeys: new SqlApiKeyRepository(executor),
    signingKeys: new SqlSigningKeyRepository(executor),
    accessRequests: new SqlAccessRequestRepository(executor),
    accessRegister: new SqlAccessRegisterRepository(executor),
    exportJobs: new SqlExportJobRepository(executor),
    pendingChanges: new SqlPendingChangeRepository(executor),
    publicRequests: new SqlPublicRequestRepository(executor),
    lockouts: new SqlLockoutRepository(executor),
    platforms: new SqlPlatformRepository(executor),
    walls: new SqlWallRepository(executor),
    cluster: new SqlClusterRepository(executor),
    linkLeases: new SqlLinkLeaseRepository(executor),
  };
}

/**
 * What both SQL stores share: the repositories, built once on the dialect's executor.
 * A store supplies only how a statement runs (and migrate/close); a new repository is
 * added here, not in each store.
 */
export abstract class SqlStore implements Store {
  readonly cameras: CameraRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly onvif: OnvifDeviceRepository;
  readonly outages: OutageRepository;
  readonly platformOutages: PlatformOutageRepository;
  readonly maintenance: MaintenanceRepository;
  readonly alertOutbox: AlertOutboxRepository;
  readonly filings: FilingRepository;
  readonly recordings: RecordingRepository;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly accessRequests: AccessRequestRepository;
  readonly accessRegister: AccessRegisterRepository;
  readonly exportJobs: ExportJobRepository;
  readonly pendingChanges: PendingChangeRepository;
  readonly publicRequests: PublicRequestRepository;
  readonly lockouts: LockoutRepository;
  readonly platforms: PlatformRepository;
  readonly walls: WallRepository;
  readonly cluster: ClusterRepository;
  readonly linkLeases: LinkLeaseRepository;

  protected constructor() {
    // Repositories keep the executor and call it only later, once the subclass is built.
    const executor: SqlExecutor = {
      all: async (sql, params = []) => {
        this.#refuseInsideTransaction('a statement on the store itself');
        return this.queryRows(sql, params);
      },
      run: async (sql, params = []) => {
        this.#refuseInsideTransaction('a statement on the store itself');
        return this.execute(sql, params);
      },
      isUniqueViolation: (err) => this.isUniqueViolation(err),
    };
    // An audit append on the store gets a transaction of its own, so reading the head and
    // inserting after it cannot interleave with another append.
    const lockSql = () => this.auditLockSql;
    const repos = repositoriesOn(executor, {
      serial: (work) => {
        this.#refuseInsideTransaction('an audit append on the store itself');
        return this.runTransaction(work);
      },
      get lockSql() {
        return lockSql();
      },
    });
    this.cameras = repos.cameras;
    this.audit = repos.audit;
    this.settings = repos.settings;
    this.onvif = repos.onvif;
    this.outages = repos.outages;
    this.platformOutages = repos.platformOutages;
    this.maintenance = repos.maintenance;
    this.alertOutbox = repos.alertOutbox;
    this.filings = repos.filings;
    this.accessRequests = repos.accessRequests;
    this.accessRegister = repos.accessRegister;
    this.exportJobs = repos.exportJobs;
    this.pendingChanges = repos.pendingChanges;
    this.publicRequests = repos.publicRequests;
    this.lockouts = repos.lockouts;
    this.platforms = repos.platforms;
    this.walls = repos.walls;
    this.cluster = repos.cluster;
    this.linkLeases = repos.linkLeases;
    this.recordings = repos.recordings;
    this.users = repos.users;
    this.sessions = repos.sessions;
    this.apiKeys = repos.apiKeys;
    this.signingKeys = repos.signingKeys;
  }

  /** See Store.transaction: commit on resolve, rollback on throw; nesting is refused. */
  async transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.#refuseInsideTransaction('transaction()');
    return this.runTransaction(async (executor) => {
      const scope: TxScope = { store: this, open: true };
      const ensureOpen = () => {
        if (!scope.open) throw new Error('this store transaction has already ended; its repositories can no longer be used');
      };
      const bound: SqlExecutor = {
        all: async (sql, params = []) => {
          ensureOpen();
          return executor.all(sql, params);
        },
        run: async (sql, params = []) => {
          ensureOpen();
          return executor.run(sql, params);
        },
        isUniqueViolation: (err) => executor.isUniqueViolation(err),
      };
      try {
        // Inside a transaction the append joins it (and its lock, where there is one).
        const inTx: AuditSerialiser = { serial: (append) => append(bound), lockSql: this.auditLockSql };
        return await txScope.run(scope, () => work(repositoriesOn(bound, inTx)));
      } finally {
        scope.open = false;
      }
    });
  }

  #refuseInsideTransaction(what: string): void {
    const scope = txScope.getStore();
    if (scope?.store === this && scope.open) {
      throw new Error(
        `${what} was called inside a transaction of the same store: transactions do not nest; use the tx repositories given to the work`,
      );
    }
  }

  /**
   * Runs `body` inside BEGIN … COMMIT (ROLLBACK when it throws) on an executor bound to
   * the transaction; statements through the store's own executor must not land in it.
   */
  /** Run first in an audit append's transaction to queue concurrent appenders; none where the transaction already does. */
  protected readonly auditLockSql: string | undefined = undefined;
  protected abstract runTransaction<T>(body: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;
  /** Rows of a query. */
  protected abstract queryRows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]>;
  /** Runs a statement; resolves to the number of rows changed. */
  protected abstract execute(sql: string, params: readonly SqlValue[]): Promise<number>;
  /** True when the error is a primary-key or unique-constraint violation. */
  protected abstract isUniqueViolation(err: unknown): boolean;
}

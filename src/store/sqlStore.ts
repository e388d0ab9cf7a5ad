import { SqlAlertOutboxRepository, SqlFilingRepository, SqlMaintenanceRepository, SqlOutageRepository } from './healthRepositories.js';
import { SqlOnvifDeviceRepository } from './onvifRepository.js';
import { SqlRecordingRepository, type RecordingRepository } from './sqlRecordings.js';
import { SqlAuditRepository, SqlCameraRepository, SqlSettingsRepository, type SqlExecutor, type SqlValue } from './sqlRepositories.js';
import type {
  AlertOutboxRepository,
  AuditRepository,
  CameraRepository,
  FilingRepository,
  MaintenanceRepository,
  OnvifDeviceRepository,
  OutageRepository,
  SettingsRepository,
  Store,
} from './store.js';

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
  readonly maintenance: MaintenanceRepository;
  readonly alertOutbox: AlertOutboxRepository;
  readonly filings: FilingRepository;
  readonly recordings: RecordingRepository;

  protected constructor() {
    // Repositories keep the executor and call it only later, once the subclass is built.
    const executor: SqlExecutor = {
      all: (sql, params = []) => this.queryRows(sql, params),
      run: (sql, params = []) => this.execute(sql, params),
      isUniqueViolation: (err) => this.isUniqueViolation(err),
    };
    this.cameras = new SqlCameraRepository(executor);
    this.audit = new SqlAuditRepository(executor);
    this.settings = new SqlSettingsRepository(executor);
    this.onvif = new SqlOnvifDeviceRepository(executor);
    this.outages = new SqlOutageRepository(executor);
    this.maintenance = new SqlMaintenanceRepository(executor);
    this.alertOutbox = new SqlAlertOutboxRepository(executor);
    this.filings = new SqlFilingRepository(executor);
    this.recordings = new SqlRecordingRepository(executor);
  }

  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;
  /** Rows of a query. */
  protected abstract queryRows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]>;
  /** Runs a statement; resolves to the number of rows changed. */
  protected abstract execute(sql: string, params: readonly SqlValue[]): Promise<number>;
  /** True when the error is a primary-key or unique-constraint violation. */
  protected abstract isUniqueViolation(err: unknown): boolean;
}

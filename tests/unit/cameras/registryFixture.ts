import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, vi, type Mock } from 'vitest';
import { CameraRegistry, type CameraRegistryDeps, type SiteGuardVerdict } from '../../../src/cameras/registry.js';
import { CredentialBox, deriveKey } from '../../../src/cameras/credentialBox.js';
import type { CameraCredentials } from '../../../src/domain/index.js';
import { GatewayError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { SqliteStore } from '../../../src/store/sqlite.js';

export const PASSWORD = 'Zq9-very-secret-camera-pass';
export const USERNAME = 'camadmin-unique-user';
const KNOWN = new Set(['road', 'school_gate', 'hotel_guest_room', 'toilet']);
/** Site types the inline guard forbids, with their citations; tests may add to it. */
export const FORBIDDEN: Record<string, string[]> = {
  hotel_guest_room: ['湖北省公共安全视频图像信息系统管理办法 第八条'],
  toilet: ['某规定 第九条'],
};

function siteGuard(siteType: string): SiteGuardVerdict {
  const citations = FORBIDDEN[siteType] ?? [];
  return citations.length > 0
    ? { forbidden: true, siteType, citations, message: `cameras are forbidden at sites of type ${siteType}` }
    : { forbidden: false, siteType, citations: [] };
}

export interface RegistryContext {
  dir: string;
  store: SqliteStore;
  registry: CameraRegistry;
  probe: Mock<(url: string, creds: CameraCredentials | null) => Promise<unknown>>;
  logLines: string[];
  makeRegistry(over?: Partial<CameraRegistryDeps>): CameraRegistry;
}

/** A registry over a real SqliteStore in a temporary directory, fresh for every test. */
export function useRegistry(): RegistryContext {
  const t = {} as RegistryContext;
  beforeEach(async () => {
    t.dir = mkdtempSync(join(tmpdir(), 'psvgw-registry-'));
    t.store = new SqliteStore(join(t.dir, 'gateway.db'));
    await t.store.migrate();
    t.logLines = [];
    t.probe = vi.fn(async () => undefined);
    t.makeRegistry = (over = {}) => {
      const sink = new Writable({
        write(chunk, _enc, done) {
          t.logLines.push(String(chunk));
          done();
        },
      });
      return new CameraRegistry({
        store: t.store,
        box: new CredentialBox(deriveKey('test secret', 'camera-credentials')),
        siteGuard,
        isSiteType: (s) => KNOWN.has(s),
        idParts: { regionCode: '34020000', industryCode: '00', typeCode: '132', networkCode: '0' },
        probe: t.probe,
        now: () => new Date('2025-06-01T08:00:00.000Z'),
        logger: createLogger({ level: 'debug', destination: sink }),
        ...over,
      });
    };
    t.registry = t.makeRegistry();
  });
  afterEach(async () => {
    t.registry.close();
    await t.store.close();
    rmSync(t.dir, { recursive: true, force: true });
  });
  return t;
}

export const input = (over: Record<string, unknown> = {}) => ({
  name: '南门 1 号',
  rtspUrl: 'rtsp://192.168.1.64:554/Streaming/Channels/101',
  siteType: 'road',
  username: USERNAME,
  password: PASSWORD,
  ...over,
});

export async function failure(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

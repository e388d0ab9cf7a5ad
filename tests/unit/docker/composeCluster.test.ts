import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config/index.js';

/** docker/compose.cluster.yaml: three nodes on one PostgreSQL, each with its own name, ports and data. */
const file = (name: string) => fileURLToPath(new URL(`../../../docker/${name}`, import.meta.url));

interface Service {
  image?: string;
  ports?: string[];
  environment?: Record<string, string>;
  security_opt?: string[];
  cap_drop?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  mem_limit?: string;
  volumes?: string[];
}

const compose = parse(readFileSync(file('compose.cluster.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const NODES = ['gw-1', 'gw-2', 'gw-3'];

describe('docker/compose.cluster.yaml', () => {
  it('runs three nodes and PostgreSQL, the database not published', () => {
    expect(Object.keys(services).sort()).toEqual(['gw-1', 'gw-2', 'gw-3', 'postgres']);
    expect(services.postgres?.ports).toBeUndefined();
  });

  it.each([...NODES, 'postgres'])('%s cannot gain privileges, drops capabilities, runs read-only within a memory limit', (name) => {
    const s = services[name] as Service;
    expect(s.security_opt).toContain('no-new-privileges:true');
    expect(s.cap_drop).toEqual(['ALL']);
    expect(s.read_only).toBe(true);
    expect(s.tmpfs ?? []).toContainEqual(expect.stringMatching(/^\/tmp(:|$)/));
    expect(s.mem_limit, `${name} mem_limit`).toMatch(/^(\$\{[A-Z_]+:-)?\d+[kmg]\}?$/);
  });

  it('gives each node its own name, data volume (with its signing key) and ports, and the same database and secrets', () => {
    const envs = NODES.map((n) => services[n]?.environment ?? {});
    expect(envs.map((e) => e.PSVGW_NODE_NAME)).toEqual(NODES);
    for (const e of envs) {
      expect(e.PSVGW_MODE).toBe('production');
      expect(e.PSVGW_STORE_DRIVER).toBe('postgres');
      expect(e.PSVGW_SECRET_KEY).toMatch(/^\$\{PSVGW_SECRET_KEY:\?/);
      expect(e.PSVGW_ADMIN_TOKEN).toMatch(/^\$\{PSVGW_ADMIN_TOKEN:\?/);
      expect(e.PSVGW_POSTGRES_URL).toBe(envs[0]?.PSVGW_POSTGRES_URL);
      // Each node makes its own signing key in its data volume; a shared key is refused.
      expect(e.PSVGW_SIGNING_KEY_FILE).toBeUndefined();
    }
    const data = NODES.map((n) => (services[n]?.volumes ?? []).find((v) => v.endsWith(':/data')));
    expect(new Set(data).size).toBe(3);
    const published = NODES.flatMap((n) => (services[n]?.ports ?? []).map((p) => p.split(':')[0]));
    expect(new Set(published).size).toBe(6);
    // The media port is in the play URLs other nodes hand out: the same inside and outside.
    for (const [i, n] of NODES.entries()) {
      const media = envs[i]?.PSVGW_MEDIA_HTTP_PORT as string;
      expect(services[n]?.ports).toContain(`${media}:${media}`);
    }
  });

  it("each node's configuration loads with the compose environment", () => {
    // Compose's `${VAR:-default}` as compose fills it with docker/.env empty.
    const env = Object.fromEntries(
      Object.entries(services['gw-2']?.environment ?? {}).map(([k, v]) => [k, v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
    );
    const config = loadConfig({
      file: file('cluster-gateway.yaml'),
      env: {
        ...env,
        PSVGW_ADMIN_TOKEN: randomBytes(24).toString('hex'),
        PSVGW_SECRET_KEY: randomBytes(32).toString('hex'),
        PSVGW_POSTGRES_URL: 'postgres://psvgw:pw@postgres:5432/psvgw',
      },
    });
    expect(config.cluster.nodeName).toBe('gw-2');
    expect(config.store.driver).toBe('postgres');
    expect(config.media.httpPort).toBe(8002);
    expect(config.media.publicHost).toBeDefined();
  });
});

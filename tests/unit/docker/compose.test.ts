import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/** docker/compose.yaml as deployed: what each service may reach, do and use. */
const COMPOSE = fileURLToPath(new URL('../../../docker/compose.yaml', import.meta.url));

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

const services = (parse(readFileSync(COMPOSE, 'utf8')) as { services: Record<string, Service> }).services;
const OPS = ['prometheus', 'alertmanager', 'grafana'];

describe('docker/compose.yaml', () => {
  it.each(OPS)('%s has no authentication of its own, so it is published on 127.0.0.1 only', (name) => {
    const ports = services[name]?.ports ?? [];
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port, `${name} port ${port}`).toMatch(/^127\.0\.0\.1:/);
  });

  it.each(['gateway', ...OPS])('%s cannot gain privileges, has no capabilities and a memory limit', (name) => {
    const s = services[name] as Service;
    expect(s.security_opt).toContain('no-new-privileges:true');
    expect(s.cap_drop).toEqual(['ALL']);
    expect(s.mem_limit, `${name} mem_limit`).toMatch(/^(\$\{[A-Z_]+:-)?\d+[kmg]\}?$/);
  });

  it.each(['gateway', ...OPS])('%s runs on a read-only root filesystem, writing only to its volumes and a tmpfs /tmp', (name) => {
    const s = services[name] as Service;
    expect(s.read_only).toBe(true);
    expect(s.tmpfs ?? []).toContainEqual(expect.stringMatching(/^\/tmp(:|$)/));
  });

  it('runs the gateway in production mode, its secrets required from docker/.env', () => {
    const env = services.gateway?.environment ?? {};
    expect(env.PSVGW_MODE).toBe('production');
    expect(env.PSVGW_SECRET_KEY).toMatch(/^\$\{PSVGW_SECRET_KEY:\?/);
    expect(env.PSVGW_ADMIN_TOKEN).toMatch(/^\$\{PSVGW_ADMIN_TOKEN:\?/);
  });
});

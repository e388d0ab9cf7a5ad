import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_OVERRIDES, loadConfig } from '../../../src/config/load.js';
import { gatewayConfigJsonSchema } from '../../../src/config/schema.js';

const EXAMPLE = fileURLToPath(new URL('../../../config/gateway.example.yaml', import.meta.url));
const text = readFileSync(EXAMPLE, 'utf8');
const lines = text.split('\n');

/** Dotted paths of every field of the file schema. */
function schemaKeys(node: Record<string, unknown>, path = ''): string[] {
  const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(props).flatMap(([key, child]) => {
    const p = path ? `${path}.${key}` : key;
    return [p, ...schemaKeys(child, p)];
  });
}

describe('config/gateway.example.yaml', () => {
  it('starts as is with only the documented env variables set', () => {
    const c = loadConfig({
      file: EXAMPLE,
      env: {
        PSVGW_HTTP_PORT: '18080',
        PSVGW_DATA_DIR: '/tmp/psvgw-data',
        PSVGW_ADMIN_TOKEN: 'dev-admin-token',
        PSVGW_SECRET_KEY: 'dev-secret-key',
      },
    });
    expect(c.mode).toBe('development');
    expect(c.http.port).toBe(18080);
    expect(c.dataDir).toBe('/tmp/psvgw-data');
    expect(c.secrets).toEqual({ adminToken: 'dev-admin-token', secretKey: 'dev-secret-key' });
  });

  it('states exactly the built-in defaults', () => {
    expect(loadConfig({ file: EXAMPLE, env: {} })).toEqual(loadConfig({ env: {} }));
  });

  it('has a comment on every key', () => {
    const bare = lines.flatMap((line, i) => {
      if (!/^\s*[A-Za-z][A-Za-z0-9]*:/.test(line)) return [];
      const above = lines[i - 1]?.trim() ?? '';
      return above.startsWith('#') ? [] : [`line ${i + 1}: ${line.trim()}`];
    });
    expect(bare).toEqual([]);
  });

  it('shows every key of the schema, optional ones commented out', () => {
    const shown = new Set(
      lines.flatMap((line) => {
        const m = /^(\s*)(?:# )?([A-Za-z][A-Za-z0-9]*):/.exec(line);
        return m?.[2] === undefined ? [] : [m[2]];
      }),
    );
    const missing = schemaKeys(gatewayConfigJsonSchema()).filter((p) => !shown.has(p.split('.').pop() ?? ''));
    expect(missing).toEqual([]);
  });

  it('names every env override and holds no secrets', () => {
    for (const o of ENV_OVERRIDES) expect(text).toContain(o.name);
    expect(text).not.toMatch(/^\s*secrets\s*:/m);
    expect(text).not.toMatch(/PSVGW_\w+=\S/);
  });
});

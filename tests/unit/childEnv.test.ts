import { describe, expect, it } from 'vitest';
import { childEnv, dropGatewayVariables } from '../../src/childEnv.js';

describe('childEnv', () => {
  /** What a child may see: all of it is kept. */
  const allowed = {
    PATH: '/usr/local/bin:/usr/bin',
    LANG: 'zh_CN.UTF-8',
    LC_ALL: 'C.UTF-8',
    LC_TIME: 'en_GB.UTF-8',
    TZ: 'Asia/Shanghai',
    HOME: '/var/lib/psvgw',
    TMPDIR: '/tmp/psvgw',
  };
  const parent = {
    ...allowed,
    PSVGW_SECRET_KEY: 'master-secret',
    PSVGW_ADMIN_TOKEN: 'admin-token',
    PSVGW_POSTGRES_URL: 'postgres://u:p@db/psvgw',
    PGPASSWORD: 'db-password',
    AWS_SECRET_ACCESS_KEY: 'cloud',
    NODE_OPTIONS: '--inspect',
    LD_PRELOAD: '/tmp/evil.so',
  };

  it('keeps only the path, locale, time zone and home/temporary directories', () => {
    expect(childEnv(parent)).toEqual(allowed);
  });

  it('never passes a PSVGW_ variable, whatever its name', () => {
    const env = childEnv({ ...parent, PSVGW_LANG: 'x', PSVGW_PATH: '/x' });
    expect(Object.keys(env).filter((k) => k.startsWith('PSVGW_'))).toEqual([]);
  });

  it('reads process.env by default and leaves it untouched', () => {
    process.env.PSVGW_SECRET_KEY_FOR_TEST = 'secret';
    try {
      const env = childEnv();
      expect(env.PSVGW_SECRET_KEY_FOR_TEST).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
      expect(process.env.PSVGW_SECRET_KEY_FOR_TEST).toBe('secret');
    } finally {
      delete process.env.PSVGW_SECRET_KEY_FOR_TEST;
    }
  });

  it('dropGatewayVariables removes the named variables that are set and names them', () => {
    const env: NodeJS.ProcessEnv = { ...parent };
    const names = ['PSVGW_ADMIN_TOKEN', 'PSVGW_POSTGRES_URL', 'PSVGW_SECRET_KEY', 'PSVGW_MODE'];
    expect(dropGatewayVariables(names, env).sort()).toEqual(['PSVGW_ADMIN_TOKEN', 'PSVGW_POSTGRES_URL', 'PSVGW_SECRET_KEY']);
    expect(Object.keys(env).filter((k) => k.startsWith('PSVGW_'))).toEqual([]);
    expect(env.PATH).toBe(allowed.PATH);
  });
});

import { describe, expect, it } from 'vitest';
import {
  DigestError,
  buildDigestAuthorization,
  chooseDigestChallenge,
  digestAlgorithmSupported,
  digestResponse,
  parseDigestChallenge,
} from '../../../../src/platform/gb28181/sip/digest.js';
import { splitOutsideQuotes, unquote } from '../../../../src/platform/gb28181/sip/headers.js';

/** Parameters of an Authorization value, for checking what was written. */
function authParams(value: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of splitOutsideQuotes(value.replace(/^Digest\s+/, ''), ',')) {
    const eq = part.indexOf('=');
    m.set(part.slice(0, eq), unquote(part.slice(eq + 1)));
  }
  return m;
}

describe('digest challenge parsing', () => {
  it('reads realm, nonce, qop list, opaque, algorithm and stale', () => {
    const c = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", stale=TRUE',
    );
    expect(c).toMatchObject({
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      qop: ['auth', 'auth-int'],
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      algorithm: 'MD5',
      stale: true,
    });
    expect(parseDigestChallenge('digest realm="3402000000",nonce="a,b",algorithm=sm3').algorithm).toBe('SM3');
  });

  it('rejects what is not a usable digest challenge', () => {
    expect(() => parseDigestChallenge('Basic realm="x"')).toThrow(DigestError);
    expect(() => parseDigestChallenge('Digest realm="x"')).toThrow(/nonce/);
    expect(() => parseDigestChallenge('Digest realm="x", nonce="y", algorithm=SHA-512-256')).toThrow(/unsupported/);
    expect(() => parseDigestChallenge('Digest realm')).toThrow(DigestError);
  });
});

describe('digest responses against published vectors', () => {
  it('RFC 2617 §3.5: MD5, qop=auth', () => {
    const c = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    const creds = { username: 'Mufasa', password: 'Circle Of Life' };
    const req = { method: 'GET', uri: '/dir/index.html' };
    expect(digestResponse(c, creds, req, { cnonce: '0a4f113b', nc: 1 }).response).toBe('6629fae49393a05397450978507c4ef1');
    const header = buildDigestAuthorization(c, creds, req, { cnonce: '0a4f113b', nc: 1 });
    expect(header).toBe(
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", ' +
        'response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001',
    );
  });

  it('RFC 7616 §3.9.1: MD5 and SHA-256, qop=auth', () => {
    const base =
      'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const creds = { username: 'Mufasa', password: 'Circle of Life' };
    const req = { method: 'GET', uri: '/dir/index.html' };
    const opts = { cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: 1 };
    expect(digestResponse(parseDigestChallenge(`Digest ${base}, algorithm=MD5`), creds, req, opts).response).toBe(
      '8ca523f5e9506fed4657c9700eebdbec',
    );
    expect(digestResponse(parseDigestChallenge(`Digest ${base}, algorithm=SHA-256`), creds, req, opts).response).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('MD5 without qop (RFC 2069 form): response = MD5(HA1:nonce:HA2), no cnonce/nc/qop written', () => {
    // Expected value computed independently with `openssl md5`.
    const c = parseDigestChallenge('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"');
    const creds = { username: 'Mufasa', password: 'Circle Of Life' };
    const header = buildDigestAuthorization(c, creds, { method: 'GET', uri: '/dir/index.html' });
    const p = authParams(header);
    expect(p.get('response')).toBe('670fd8c2df070c60b045671b8b24ff02');
    expect(p.has('cnonce') || p.has('qop') || p.has('nc')).toBe(false);
  });

  it('a GB/T 28181 REGISTER challenge, without qop (openssl md5 value)', () => {
    const c = parseDigestChallenge('Digest realm="3402000000",nonce="9bd055",algorithm=MD5');
    const r = digestResponse(
      c,
      { username: '34020000001320000001', password: '12345678' },
      { method: 'REGISTER', uri: 'sip:34020000002000000001@3402000000' },
    );
    expect(r.response).toBe('44ac5fd979560c6da6cec866a439bd48');
  });

  it.runIf(digestAlgorithmSupported('SM3'))('SM3 (GB/T 28181-2022) with qop=auth (openssl dgst -sm3 value)', () => {
    const c = parseDigestChallenge('Digest realm="3402000000", nonce="9bd055", qop="auth", algorithm=SM3');
    const header = buildDigestAuthorization(
      c,
      { username: '34020000001320000001', password: '12345678' },
      { method: 'REGISTER', uri: 'sip:34020000002000000001@3402000000' },
      { cnonce: '0a4f113b', nc: 1 },
    );
    const p = authParams(header);
    expect(p.get('response')).toBe('d67edf88f74034e7fc8e0906b7a60a38a214f6e3c00b8845a4e2b6fdf196dd49');
    expect(p.get('algorithm')).toBe('SM3');
  });

  it('counts nc in hex and makes a fresh cnonce when none is given', () => {
    const c = parseDigestChallenge('Digest realm="r", nonce="n", qop="auth"');
    const a = digestResponse(c, { username: 'u', password: 'p' }, { method: 'REGISTER', uri: 'sip:r' }, { nc: 26 });
    const b = digestResponse(c, { username: 'u', password: 'p' }, { method: 'REGISTER', uri: 'sip:r' }, { nc: 26 });
    expect(a.nc).toBe('0000001a');
    expect(a.cnonce).not.toBe(b.cnonce);
    expect(() =>
      digestResponse(
        parseDigestChallenge('Digest realm="r", nonce="n", qop="auth-int"'),
        { username: 'u', password: 'p' },
        { method: 'X', uri: 'y' },
      ),
    ).toThrow(/qop/);
  });

  it('escapes quotes in the username it writes', () => {
    const c = parseDigestChallenge('Digest realm="r", nonce="n"');
    const header = buildDigestAuthorization(c, { username: 'a"b', password: 'p' }, { method: 'REGISTER', uri: 'sip:r' });
    expect(header).toContain('username="a\\"b"');
    expect(authParams(header).get('username')).toBe('a"b');
  });
});

describe('choosing among several challenges', () => {
  it('prefers SM3 where offered and computable, else MD5, skipping what it cannot use', () => {
    const md5 = 'Digest realm="r", nonce="n1", algorithm=MD5';
    const sm3 = 'Digest realm="r", nonce="n2", algorithm=SM3';
    const odd = 'Digest realm="r", nonce="n3", algorithm=SHA-512-256';
    const expected = digestAlgorithmSupported('SM3') ? 'n2' : 'n1';
    expect(chooseDigestChallenge([md5, odd, sm3])?.nonce).toBe(expected);
    expect(chooseDigestChallenge([md5, sm3], ['MD5'])?.nonce).toBe('n1');
    expect(chooseDigestChallenge(['Basic realm="x"', odd])).toBeUndefined();
  });
});

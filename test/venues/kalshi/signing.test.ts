import { constants, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createKalshiSigner,
  loadKalshiPrivateKey,
  signingMessage,
  verifyKalshiSignature,
} from '../../../src/venues/kalshi/signing.ts';

const pair = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

describe('kalshi signing (K11)', () => {
  it('builds the signed text from timestamp, method and the path without query', () => {
    expect(signingMessage('1700000000123', 'get', '/trade-api/v2/markets?limit=5&cursor=x')).toBe(
      '1700000000123GET/trade-api/v2/markets',
    );
    expect(signingMessage('1', 'GET', '/trade-api/ws/v2')).toBe('1GET/trade-api/ws/v2');
  });

  it('signs with RSA-PSS SHA-256 (salt = digest length), verifiable with the public key', () => {
    const signer = createKalshiSigner({ keyId: 'key-123', privateKeyPem: pair.privateKey });
    const h = signer.headers('GET', '/trade-api/v2/markets?status=open', 1_700_000_000_123.7);
    expect(h['KALSHI-ACCESS-KEY']).toBe('key-123');
    expect(h['KALSHI-ACCESS-TIMESTAMP']).toBe('1700000000123');
    const sig = Buffer.from(h['KALSHI-ACCESS-SIGNATURE']!, 'base64');
    expect(sig).toHaveLength(256);
    const ok = verify(
      'sha256',
      Buffer.from('1700000000123GET/trade-api/v2/markets'),
      { key: pair.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      sig,
    );
    expect(ok).toBe(true);
    // PSS is randomized: two signatures of the same text differ, both verify
    const h2 = signer.headers('GET', '/trade-api/v2/markets', 1_700_000_000_123);
    expect(h2['KALSHI-ACCESS-SIGNATURE']).not.toBe(h['KALSHI-ACCESS-SIGNATURE']);
    expect(verifyKalshiSignature(pair.publicKey, h2, 'GET', '/trade-api/v2/markets')).toBe(true);
  });

  it('refuses a wrong path, method, key, key id or stale timestamp', () => {
    const signer = createKalshiSigner({ keyId: 'key-123', privateKeyPem: pair.privateKey });
    const h = signer.headers('GET', '/trade-api/ws/v2', 5_000);
    expect(
      verifyKalshiSignature(pair.publicKey, h, 'GET', '/trade-api/ws/v2', { keyId: 'key-123', nowMs: 6_000 }),
    ).toBe(true);
    expect(verifyKalshiSignature(pair.publicKey, h, 'POST', '/trade-api/ws/v2')).toBe(false);
    expect(verifyKalshiSignature(pair.publicKey, h, 'GET', '/trade-api/v2/markets')).toBe(false);
    expect(verifyKalshiSignature(pair.publicKey, h, 'GET', '/trade-api/ws/v2', { keyId: 'other' })).toBe(
      false,
    );
    expect(verifyKalshiSignature(pair.publicKey, h, 'GET', '/trade-api/ws/v2', { nowMs: 600_000 })).toBe(
      false,
    );
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    expect(verifyKalshiSignature(other.publicKey, h, 'GET', '/trade-api/ws/v2')).toBe(false);
    expect(
      verifyKalshiSignature(
        pair.publicKey,
        { ...h, 'KALSHI-ACCESS-SIGNATURE': 'AAAA' },
        'GET',
        '/trade-api/ws/v2',
      ),
    ).toBe(false);
    expect(verifyKalshiSignature(pair.publicKey, {}, 'GET', '/trade-api/ws/v2')).toBe(false);
    // lower-case header names (as node delivers them) are accepted
    const lower = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verifyKalshiSignature(pair.publicKey, lower, 'GET', '/trade-api/ws/v2')).toBe(true);
  });

  it('loads the key from KALSHI_PRIVATE_KEY_PATH and explains what is wrong otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kalshi-key-'));
    const file = join(dir, 'key.pem');
    writeFileSync(file, pair.privateKey);
    expect(loadKalshiPrivateKey({ KALSHI_PRIVATE_KEY_PATH: file })).toBe(pair.privateKey);
    expect(() => loadKalshiPrivateKey({})).toThrow(/KALSHI_PRIVATE_KEY_PATH is not set/);
    expect(() => loadKalshiPrivateKey({ KALSHI_PRIVATE_KEY_PATH: join(dir, 'missing.pem') })).toThrow(
      /cannot read/,
    );
    expect(() => createKalshiSigner({ keyId: 'k', privateKeyPem: 'not a key' })).toThrow(
      /not a readable PEM/,
    );
    expect(() => createKalshiSigner({ keyId: '', privateKeyPem: pair.privateKey })).toThrow(/key id/);
  });
});

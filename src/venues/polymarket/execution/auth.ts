/**
 * Polymarket CLOB authentication, through the official SDK's header builders (@polymarket/clob-client-v2):
 * - L1: an EIP-712 `ClobAuth` signature by the wallet key (domain "ClobAuthDomain" version "1" — unchanged by
 *   V2), headers POLY_ADDRESS / POLY_SIGNATURE / POLY_TIMESTAMP / POLY_NONCE; used once to create or derive the
 *   L2 API credentials.
 * - L2: HMAC-SHA256 of `timestamp + METHOD + path + body` with the API secret (url-safe base64), headers
 *   POLY_ADDRESS / POLY_SIGNATURE / POLY_TIMESTAMP / POLY_API_KEY / POLY_PASSPHRASE, on every trading call.
 * Timestamps are whole seconds from the clock we are given. Secrets never leave this module in a log line.
 */
import { type ApiKeyCreds, createL1Headers, createL2Headers } from '@polymarket/clob-client-v2';
import type { Address } from 'viem';
import type { LocalAccount } from 'viem/accounts';

export interface ClobCredentials {
  readonly key: string;
  readonly secret: string;
  readonly passphrase: string;
}

/** The SDK's signer contract (its ethers-style branch), backed by a viem local account. */
export function sdkSigner(account: LocalAccount) {
  return {
    getAddress: async (): Promise<string> => account.address,
    _signTypedData: (
      domain: Record<string, unknown>,
      types: Record<string, { name: string; type: string }[]>,
      value: Record<string, unknown>,
    ): Promise<string> => {
      const names = Object.keys(types).filter((k) => k !== 'EIP712Domain');
      if (names.length !== 1) throw new Error(`expected one primary type, got ${names.join(', ')}`);
      return account.signTypedData({ domain, types, primaryType: names[0]!, message: value });
    },
  };
}

export async function l2Headers(
  account: LocalAccount,
  creds: ClobCredentials,
  method: string,
  requestPath: string,
  body: string | undefined,
  nowMs: number,
): Promise<Record<string, string>> {
  const apiCreds: ApiKeyCreds = { key: creds.key, secret: creds.secret, passphrase: creds.passphrase };
  const h = await createL2Headers(
    sdkSigner(account),
    apiCreds,
    body === undefined ? { method, requestPath } : { method, requestPath, body },
    Math.floor(nowMs / 1000),
  );
  return asStrings(h);
}

const asStrings = (h: Record<string, string | number | boolean>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));

export async function l1Headers(
  account: LocalAccount,
  chainId: number,
  nowMs: number,
  nonce = 0,
): Promise<Record<string, string>> {
  return asStrings(await createL1Headers(sdkSigner(account), chainId, nonce, Math.floor(nowMs / 1000)));
}

/** Masks an address for a start-up banner: 0x1234…abcd. */
export function maskAddress(a: Address | string): string {
  return a.length > 10 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}

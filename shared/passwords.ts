/** scrypt password hashes in a self-describing form: `scrypt$N$r$p$salt$hash` (base64). */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * N=2^15, r=8, p=3: one of OWASP's equal-strength scrypt settings (the same as N=2^17,
 * p=1), with the 32 MiB of memory per check that N=2^15 needs instead of 128 MiB, about
 * 150 ms on an idle core. Successful logins are cached by the directory, so a client that
 * logs in again and again pays it once. Hashes made with other parameters keep working.
 */
export const DEFAULT_PARAMS: ScryptParams = { N: 32768, r: 8, p: 3 };

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, KEY_LENGTH, { ...options, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  if (expected.length !== KEY_LENGTH) return false;
  const key = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(key, expected);
}

/** The cost parameters of an encoded hash, or undefined when it is not one of ours. */
export function paramsOf(encoded: string): ScryptParams | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  return [N, r, p].every((value) => Number.isSafeInteger(value) && value > 0) ? { N, r, p } : undefined;
}

/**
 * A hash that no password matches (its key is all zeros) with the given cost: checked
 * for unknown users, so that a login takes as long whether or not the user exists.
 */
export function dummyHash(params: ScryptParams = DEFAULT_PARAMS): string {
  return ['scrypt', params.N, params.r, params.p, Buffer.alloc(16).toString('base64'), Buffer.alloc(KEY_LENGTH).toString('base64')].join('$');
}

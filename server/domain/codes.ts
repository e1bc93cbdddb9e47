// Invitation codes. Each invitee gets two secrets from a CSPRNG (nanoid):
// - a typed code for letters and phone calls: 16 characters from an alphabet without look-alikes
//   (no 0/O, no 1/I/L, and no U beside V), case-insensitive, shown in groups of four:
//   16 x log2(30) = 78.5 bits;
// - a link token for the emailed URL: 24 characters of nanoid's URL alphabet, 144 bits.

import { customRandom } from 'nanoid';
import { randomBytesFromPool } from '../security/random-pool.ts';

export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_LENGTH = 16;
export const TOKEN_LENGTH = 24;

// nanoid's unbiased generator, fed from a pooled CSPRNG (imports create many codes at once).
const newCode = customRandom(CODE_ALPHABET, CODE_LENGTH, randomBytesFromPool);
const newToken = customRandom('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_', TOKEN_LENGTH, randomBytesFromPool);

export function generateCode(): string {
  return newCode();
}

export function generateToken(): string {
  return newToken();
}

/** ABCD-EFGH-JKMN-PQRS */
export function formatCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

/**
 * What a person typed, as a code: case, spaces and dashes ignored, and U read as V (U is left out
 * of the alphabet because the two are confused). Returns undefined when it cannot be a code.
 */
export function normalizeTypedCode(typed: string): string | undefined {
  const cleaned = typed.toUpperCase().replace(/[\s\-_.]/g, '').replace(/U/g, 'V');
  if (cleaned.length !== CODE_LENGTH || ![...cleaned].every((c) => CODE_ALPHABET.includes(c))) return undefined;
  return cleaned;
}

export function isPlausibleToken(token: string): boolean {
  return token.length === TOKEN_LENGTH && /^[0-9A-Za-z_-]+$/.test(token);
}

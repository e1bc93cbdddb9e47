// Keyed hashing and encryption with the server secret. The secret lives outside the database
// (environment or data/secret), so a copy of the database alone cannot open a questionnaire,
// read an invitation code, or link a draft to an invitee.

import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { randomBytesFromPool } from './random-pool.ts';

/** Purposes get their own derived key, so values computed for one purpose never match another. */
export type Purpose = 'code-lookup' | 'draft-key' | 'submitted-key' | 'code-storage' | 'session-cookie' | 'mail-id' | 'return-path' | 'secret-check';

export interface Secrets {
  /** Deterministic keyed hash, base64url: for looking things up without storing them. */
  hmac(purpose: Purpose, value: string): string;
  /** Authenticated encryption (AES-256-GCM), base64url. */
  encrypt(purpose: Purpose, plaintext: string): string;
  /** Returns undefined when the value was not made with this secret or was tampered with. */
  decrypt(purpose: Purpose, sealed: string): string | undefined;
  /** For a worker thread of this process that needs the same keys; never stored or sent anywhere. */
  readonly masterSecret: string;
}

export function createSecrets(masterSecret: string): Secrets {
  if (masterSecret.length < 32) throw new Error('the server secret must be at least 32 characters');
  const keys = new Map<Purpose, Buffer>();
  const key = (purpose: Purpose): Buffer => {
    let k = keys.get(purpose);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', masterSecret, 'enquete', purpose, 32));
      keys.set(purpose, k);
    }
    return k;
  };
  return {
    masterSecret,
    hmac: (purpose, value) => createHmac('sha256', key(purpose)).update(value).digest('base64url'),
    encrypt(purpose, plaintext) {
      const iv = randomBytesFromPool(12);
      const cipher = createCipheriv('aes-256-gcm', key(purpose), iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    decrypt(purpose, sealed) {
      try {
        const raw = Buffer.from(sealed, 'base64url');
        if (raw.length < 28) return undefined;
        const decipher = createDecipheriv('aes-256-gcm', key(purpose), raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

export function generateMasterSecret(): string {
  return randomBytes(32).toString('base64url');
}

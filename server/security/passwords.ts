// Admin passwords: scrypt (node:crypto, no dependency) with a random salt per password, stored as
// "scrypt$N$r$p$salt$hash". Verification takes the same time whether or not the account exists.
//
// scrypt runs on libuv's thread pool (4 threads), which also makes every respondent's save
// durable (the WAL sync, db/group-commit.ts). A flood of sign-in attempts once took the whole pool
// and held saves up for seconds, so hashing is bounded: one at a time, at most HASH_QUEUE waiting;
// past that an attempt is refused at once (HashingBusyError) rather than queued behind the rest.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 2 ** 15;
const r = 8;
const p = 1;
const KEY_LENGTH = 32;
/** N * r * 128 bytes = 32 MiB; Node's default limit is exactly that, so leave headroom. */
const MAX_MEMORY = 64 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 12;

/** Hashes at once on the thread pool: the rest of the pool stays free for the database's syncs. */
const HASH_CONCURRENCY = 1;
/** Attempts waiting for their turn; one hash takes about 50-100 ms here, so this is seconds of work. */
const HASH_QUEUE = 32;

export class HashingBusyError extends Error {
  constructor() {
    super('too many sign-ins are being checked at once; try again in a moment');
  }
}

let hashing = 0;
const waiting: (() => void)[] = [];

async function bounded<T>(work: () => Promise<T>): Promise<T> {
  if (hashing >= HASH_CONCURRENCY) {
    if (waiting.length >= HASH_QUEUE) throw new HashingBusyError();
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else hashing++;
  try {
    return await work();
  } finally {
    // The turn passes to the next in line (hashing stays counted), or is given back.
    const next = waiting.shift();
    if (next) next();
    else hashing--;
  }
}

function derive(password: string, salt: Buffer, options: ScryptOptions, length: number): Promise<Buffer> {
  return bounded(() => new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, length, options, (e, key) => (e ? reject(e) : resolve(key)))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r, p, maxmem: MAX_MEMORY }, KEY_LENGTH);
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** A hash of a random password: verified against when the account does not exist. */
let decoy: Promise<string> | undefined;

export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const encoded = stored ?? (await (decoy ??= hashPassword(randomBytes(16).toString('hex'))));
  const [scheme, n, rr, pp, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(rr), p: Number(pp), maxmem: MAX_MEMORY }, expected.length);
  return timingSafeEqual(key, expected) && stored !== undefined;
}

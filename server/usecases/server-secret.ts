// The server secret must be the one the database was set up with. With another one nothing
// fails at once, which is the danger: codes already mailed stop opening the questionnaire, drafts
// cannot be found, and a `survey import` or `survey send` run from a shell that lacks the
// server's SERVER_SECRET (and so makes itself a new secret file) would seal codes no server can
// read, or stop halfway through a mailing. So the database keeps a check value of its secret, and
// the server and every command refuse to start with a different one.
//
// The check value is a keyed hash of a fixed text under its own purpose. It tells nothing that a
// copy of the database does not already tell: every sealed code can confirm a guessed secret too.

import type { Db } from '../db/connection.ts';
import type { Secrets } from '../security/secrets.ts';

export class SecretMismatchError extends Error {}

const KEY = 'server_secret_check';

/** What the database keeps to recognise its secret. */
export function secretCheckValue(secrets: Secrets): string {
  return secrets.hmac('secret-check', 'enquete server secret');
}

/**
 * Records the secret's check value on first use, and throws SecretMismatchError if the database
 * was set up with another secret. A database from before the check value is checked against one
 * of its sealed codes. `source` says where the secret came from, for the message.
 */
export async function checkServerSecret(db: Db, secrets: Secrets, source: string): Promise<void> {
  const check = secretCheckValue(secrets);
  const stored = await db.selectFrom('settings').select('value').where('key', '=', KEY).executeTakeFirst();
  const mismatch = () =>
    new SecretMismatchError(
      `the server secret (${source}) is not the one this database was set up with: codes already sent would not open the questionnaire, and new ones would not open on the server. ` +
        'Use the same secret as the server: set SERVER_SECRET as the server has it, or keep the file "secret" the server uses beside the database.',
    );
  if (stored) {
    if (stored.value !== check) throw mismatch();
    return;
  }
  const sealed = await db.selectFrom('invitees').select('code_sealed').where('code_sealed', '!=', '').limit(1).executeTakeFirst();
  if (sealed && secrets.decrypt('code-storage', sealed.code_sealed) === undefined) throw mismatch();
  // Two processes may start together: the first value stays, and the other is compared with it.
  await db.insertInto('settings').values({ key: KEY, value: check }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const kept = await db.selectFrom('settings').select('value').where('key', '=', KEY).executeTakeFirstOrThrow();
  if (kept.value !== check) throw mismatch();
}

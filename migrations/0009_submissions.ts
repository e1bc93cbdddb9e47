// Frozen once landed. The answer side's own record that a questionnaire was submitted
// (docs/anonymity.md, "No commit ties a person to an answer"): the ledger learns "submitted" later,
// in batches of several people, so the code must stop opening the questionnaire, and reminders
// must stop, on something written with the response itself. Keyed by HMAC(submitted-key) of the
// draft key, so that only the server secret relates a row to an invitee; WITHOUT ROWID, so that
// nothing records the order in which they came.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('submissions')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('survey_id', 'text', (c) => c.notNull().references('surveys.id'))
    .modifyEnd(sql`without rowid`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('submissions').execute();
}

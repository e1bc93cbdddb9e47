// Frozen once landed. The telephone non-response survey (seed-monitor-2020 F7): the few questions
// an interviewer asks those who would not take part. The answers are stored like responses, apart
// from the ledger and not linked to it: a random id, the carried strata, no invitee, no date, and
// WITHOUT ROWID so that nothing records the order in which they came. The ledger learns only the
// date someone was interviewed, so that nobody is asked twice; it goes with the invitees at purge.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('nonresponse_answers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('survey_id', 'text', (c) => c.notNull().references('surveys.id'))
    .addColumn('strata', 'text', (c) => c.notNull())
    .addColumn('answers', 'text', (c) => c.notNull())
    .modifyEnd(sql`without rowid`)
    .execute();
  await db.schema.alterTable('invitees').addColumn('interviewed_on', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('invitees').dropColumn('interviewed_on').execute();
  await db.schema.dropTable('nonresponse_answers').execute();
}

// Frozen once landed. Calls to non-responders ("nabellen", seed-monitor-2020 F6): one row per
// call with what it brought, so that a call room sees who was reached, who promised to respond and
// when to call back. Contact data like the rest of the ledger: dated to the day, never linked to
// answers, and removed by `survey purge` with the invitees.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('calls')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('survey_id', 'text', (c) => c.notNull().references('surveys.id'))
    .addColumn('invitee_id', 'integer', (c) => c.notNull().references('invitees.id'))
    .addColumn('called_on', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('call_back_on', 'text')
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('calls_invitee').on('calls').columns(['invitee_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('calls').execute();
}

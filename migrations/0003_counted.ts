// Frozen once landed. The ledger learns the date a respondent reached the counting rule's page
// ("counts as a response once question X is reached"): a date, never an answer.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('invitees').addColumn('counted_on', 'text').execute();
}

export async function down(): Promise<void> {
  // SQLite before 3.35 cannot drop columns; the column is harmless when unused.
}

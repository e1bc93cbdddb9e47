// Frozen once landed. "Opslaan en later verder" ends the respondent's session, also for a copy of
// its cookie (which stayed valid for its twelve hours): the draft counts the sessions ended, and a
// session cookie carries the count it was started with, so an older one no longer opens the draft.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('drafts').addColumn('session_round', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('drafts').dropColumn('session_round').execute();
}

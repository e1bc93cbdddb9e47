// Frozen once landed. Fieldwork: the durable outbox, more dispositions, freezing, and the
// aggregate counts that remain after contact data is purged.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    // No foreign keys: checking them on every claim and outcome cost the sender a third of its
    // time (scripts/bench). Outbox rows are only created from invitees (enqueueMailing) and
    // deleted before their invitees (purge).
    .addColumn('survey_id', 'text', (c) => c.notNull())
    .addColumn('invitee_id', 'integer', (c) => c.notNull())
    .addColumn('mailing_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('message_id', 'text')
    .addColumn('last_error', 'text')
    .addUniqueConstraint('outbox_invitee_mailing', ['invitee_id', 'mailing_id'])
    .execute();
  // The sender takes a survey's next due row in (next_attempt_at, id) order: this index hands it
  // over without sorting the queue. It is the only index holding status, because every claim and
  // every outcome rewrites the entries of each index that does (measured: scripts/bench).
  await db.schema.createIndex('outbox_survey_due').on('outbox').columns(['survey_id', 'status', 'next_attempt_at', 'id']).execute();

  await db.schema.alterTable('invitees').addColumn('bounced_on', 'text').execute();
  await db.schema.alterTable('invitees').addColumn('not_eligible_on', 'text').execute();
  await db.schema.alterTable('surveys').addColumn('frozen_at', 'text').execute();
  await db.schema.alterTable('surveys').addColumn('purged_at', 'text').execute();

  await db.schema
    .createTable('stratum_counts')
    .addColumn('survey_id', 'text', (c) => c.notNull().references('surveys.id'))
    .addColumn('stratum', 'text', (c) => c.notNull())
    .addColumn('counts', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('stratum_counts_pk', ['survey_id', 'stratum'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('stratum_counts').execute();
  await db.schema.dropTable('outbox').execute();
}

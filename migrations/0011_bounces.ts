// Frozen once landed. Delivery reports that came back after the relay took a mail (docs/
// fieldwork.md, "Bounces"): one row per report and outbox row, so that `survey bounces` and the
// dashboard can count hard and soft bounces per mailing and domain. `report_key` (the report's
// own Message-ID, or a hash of it) makes a report that arrives twice count once. Ledger side: it
// names the outbox row and so the invitee, never an answer; purge deletes it with the outbox.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('bounces')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('survey_id', 'text', (c) => c.notNull().references('surveys.id'))
    .addColumn('outbox_id', 'integer', (c) => c.notNull())
    .addColumn('invitee_id', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('report_key', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('bounces_report').on('bounces').columns(['outbox_id', 'report_key']).unique().execute();
  await db.schema.createIndex('bounces_survey').on('bounces').columns(['survey_id', 'kind']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('bounces').execute();
}

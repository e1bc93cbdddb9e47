// Frozen once landed: later changes go into new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('questionnaire_versions')
    .addColumn('hash', 'text', (c) => c.primaryKey())
    .addColumn('questionnaire_id', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('surveys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('questionnaire_hash', 'text', (c) => c.notNull().references('questionnaire_versions.hash'))
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('opens_at', 'text', (c) => c.notNull())
    .addColumn('closes_at', 'text', (c) => c.notNull())
    .addColumn('closed_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('invitees')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('survey_id', 'text', (c) => c.notNull().references('surveys.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('salutation', 'text')
    .addColumn('organisation', 'text')
    .addColumn('phone', 'text')
    .addColumn('sample', 'text', (c) => c.notNull())
    .addColumn('code_lookup', 'text', (c) => c.notNull().unique())
    .addColumn('token_lookup', 'text', (c) => c.notNull().unique())
    .addColumn('code_sealed', 'text', (c) => c.notNull())
    .addColumn('token_sealed', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('opened_on', 'text')
    .addColumn('started_on', 'text')
    .addColumn('submitted_on', 'text')
    .addColumn('refused_on', 'text')
    .addColumn('created_on', 'text', (c) => c.notNull())
    .addUniqueConstraint('invitees_survey_email', ['survey_id', 'email'])
    .execute();
  await db.schema.createIndex('invitees_survey_state').on('invitees').columns(['survey_id', 'state']).execute();

  // The answer store: WITHOUT ROWID tables keyed by random or keyed-hash text, so rows are stored
  // in key order and nothing records the order in which they arrived.
  await db.schema
    .createTable('drafts')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('survey_id', 'text', (c) => c.notNull())
    .addColumn('answers', 'text', (c) => c.notNull())
    .addColumn('strata', 'text', (c) => c.notNull())
    .addColumn('current_page', 'integer', (c) => c.notNull())
    .addColumn('furthest_page', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .modifyEnd(sql`without rowid`)
    .execute();

  await db.schema
    .createTable('responses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('survey_id', 'text', (c) => c.notNull())
    .addColumn('questionnaire_id', 'text', (c) => c.notNull())
    .addColumn('questionnaire_version', 'text', (c) => c.notNull())
    .addColumn('questionnaire_hash', 'text', (c) => c.notNull())
    .addColumn('answers', 'text', (c) => c.notNull())
    .addColumn('strata', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .modifyEnd(sql`without rowid`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['responses', 'drafts', 'invitees', 'surveys', 'questionnaire_versions']) {
    await db.schema.dropTable(table).execute();
  }
}

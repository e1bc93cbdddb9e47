// Frozen once landed. The admin side: accounts (scrypt hashes), server-side sessions (only a hash
// of the cookie's token is stored, so a copy of the database opens no session), the audit log,
// and on each response the first page a partial respondent never submitted, so that exports can
// tell "not reached (break-off)" from "no answer".
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('admin_accounts')
    .addColumn('email', 'text', (c) => c.primaryKey())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('disabled_at', 'text')
    .execute();
  await db.schema
    .createTable('admin_sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().references('admin_accounts.email').onDelete('cascade'))
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('survey_id', 'text')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.alterTable('responses').addColumn('reached_page', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('admin_sessions').execute();
  await db.schema.dropTable('admin_accounts').execute();
}

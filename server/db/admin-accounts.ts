import type { Selectable } from 'kysely';
import type { Db } from './connection.ts';
import type { AdminAccountTable, AdminRole } from './schema.ts';

export type AdminAccount = Selectable<AdminAccountTable>;

export async function findAccount(db: Db, email: string): Promise<AdminAccount | undefined> {
  return db.selectFrom('admin_accounts').selectAll().where('email', '=', email).executeTakeFirst();
}

/** Adds an account or, for an existing one, sets a new password and role (and enables it). */
export async function upsertAccount(db: Db, email: string, passwordHash: string, role: AdminRole, now: Date): Promise<'added' | 'updated'> {
  const existing = await findAccount(db, email);
  if (existing) {
    await db.updateTable('admin_accounts').set({ password_hash: passwordHash, role, disabled_at: null }).where('email', '=', email).execute();
    return 'updated';
  }
  await db.insertInto('admin_accounts').values({ email, password_hash: passwordHash, role, created_at: now.toISOString(), disabled_at: null }).execute();
  return 'added';
}

/** Disables an account and ends its sessions. */
export async function disableAccount(db: Db, email: string, now: Date): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.updateTable('admin_accounts').set({ disabled_at: now.toISOString() }).where('email', '=', email).executeTakeFirst();
    await trx.deleteFrom('admin_sessions').where('email', '=', email).execute();
    return result.numUpdatedRows > 0n;
  });
}

export async function listAccounts(db: Db): Promise<AdminAccount[]> {
  return db.selectFrom('admin_accounts').selectAll().orderBy('email').execute();
}

export async function insertSession(db: Db, tokenHash: string, email: string, expiresAt: Date): Promise<void> {
  await db.insertInto('admin_sessions').values({ token_hash: tokenHash, email, expires_at: expiresAt.toISOString() }).execute();
}

/** The account of a live session (not expired, account not disabled). */
export async function sessionAccount(db: Db, tokenHash: string, now: Date): Promise<AdminAccount | undefined> {
  return db
    .selectFrom('admin_sessions')
    .innerJoin('admin_accounts', 'admin_accounts.email', 'admin_sessions.email')
    .selectAll('admin_accounts')
    .where('admin_sessions.token_hash', '=', tokenHash)
    .where('admin_sessions.expires_at', '>', now.toISOString())
    .where('admin_accounts.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('token_hash', '=', tokenHash).execute();
}

export async function deleteExpiredSessions(db: Db, now: Date): Promise<void> {
  await db.deleteFrom('admin_sessions').where('expires_at', '<=', now.toISOString()).execute();
}

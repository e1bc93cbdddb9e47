import type { Db } from './connection.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  surveyId?: string | undefined;
  detail?: string | undefined;
}

/** Writes one admin action to the audit log. */
export async function audit(db: Db, entry: AuditEntry, now: Date): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ at: now.toISOString(), actor: entry.actor, action: entry.action, survey_id: entry.surveyId ?? null, detail: entry.detail ?? null })
    .execute();
}

export async function recentAudit(db: Db, limit: number) {
  return db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit).execute();
}

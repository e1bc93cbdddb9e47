import type { CompiledQuery, Insertable, Selectable } from 'kysely';
import type { Db } from './connection.ts';
import { prepared } from './prepared.ts';
import { normalizeEmail } from '../domain/survey/addresses.ts';
import type { InviteeState, InviteeTable } from './schema.ts';

export type InviteeRow = Selectable<InviteeTable>;
export type NewInvitee = Insertable<InviteeTable>;

// Every column an import writes, in a fixed order, so that one compiled statement fits every chunk.
const INSERT_COLUMNS = [
  'survey_id', 'email', 'name', 'salutation', 'organisation', 'phone', 'sample', 'code_lookup', 'token_lookup', 'code_sealed', 'token_sealed',
  'state', 'opened_on', 'started_on', 'submitted_on', 'refused_on', 'bounced_on', 'not_eligible_on', 'counted_on', 'created_on',
] as const satisfies readonly Exclude<keyof NewInvitee, 'id'>[];
// SQLite binds at most 32,766 variables per statement: 1,600 rows of 20 columns stay below.
const INSERT_CHUNK = 1600;
// By number of rows (the SQL is the same for every database of this dialect).
const insertStatements = new Map<number, CompiledQuery>();

/**
 * Inserts invitees in chunks. Building Kysely's query tree for every value was a tenth of a
 * 100,000-row import, so the statement for a chunk of n rows is compiled once (with placeholder
 * values) and each chunk binds its own values to it.
 */
export async function insertInvitees(db: Db, rows: NewInvitee[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    let statement = insertStatements.get(chunk.length);
    if (!statement) {
      const placeholder = Object.fromEntries(INSERT_COLUMNS.map((c) => [c, null])) as unknown as NewInvitee;
      statement = { ...db.insertInto('invitees').values(chunk.map(() => placeholder)).compile(), parameters: [] };
      if (insertStatements.size >= 20) insertStatements.clear();
      insertStatements.set(chunk.length, statement);
    }
    const parameters: unknown[] = [];
    for (const row of chunk) for (const column of INSERT_COLUMNS) parameters.push(row[column] ?? null);
    await db.executeQuery({ ...statement, parameters });
  }
}

export async function findInviteeByCodeLookup(db: Db, lookup: string): Promise<InviteeRow | undefined> {
  return db.selectFrom('invitees').selectAll().where('code_lookup', '=', lookup).executeTakeFirst();
}

export async function findInviteeByTokenLookup(db: Db, lookup: string): Promise<InviteeRow | undefined> {
  return db.selectFrom('invitees').selectAll().where('token_lookup', '=', lookup).executeTakeFirst();
}

/** What a respondent's pages need of their invitee: no contact data, no sealed codes. */
export type RespondentInvitee = Pick<InviteeRow, 'id' | 'survey_id' | 'state' | 'sample' | 'counted_on'>;

// Prepared (db/prepared.ts): the sender reads the invitee of every mail it sends.
const byId = prepared((db, v: { id: number }) => db.selectFrom('invitees').selectAll().where('id', '=', v.id));

export async function getInvitee(db: Db, id: number): Promise<InviteeRow | undefined> {
  return (await byId(db, { id })).rows[0];
}

/** What the sender composes mails from, for the invitees of a claimed batch, by id. */
export async function inviteesForMail(db: Db, ids: number[]): Promise<Map<number, InviteeForMail>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('invitees').select(['id', 'name', 'salutation', 'organisation', 'email', 'code_sealed', 'token_sealed']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

export type InviteeForMail = Pick<InviteeRow, 'id' | 'name' | 'salutation' | 'organisation' | 'email' | 'code_sealed' | 'token_sealed'>;

// The sender's check before each mail, in one lookup: the invitee's state and address, and
// whether their survey was closed in the meantime (by `survey close`, while a long batch ran).
const forSending = prepared((db, v: { id: number }) =>
  db.selectFrom('invitees as i').innerJoin('surveys as s', 's.id', 'i.survey_id').select(['i.id', 'i.survey_id', 'i.state', 'i.email', 'i.code_sealed', 's.closed_at as survey_closed_at']).where('i.id', '=', v.id),
);

export type InviteeForSending = Pick<InviteeRow, 'id' | 'survey_id' | 'state' | 'email' | 'code_sealed'> & { survey_closed_at: string | null };

export async function getInviteeForSending(db: Db, id: number): Promise<InviteeForSending | undefined> {
  return (await forSending(db, { id })).rows[0];
}

/** Records the first open of the link (date only); later opens change nothing. */
export async function markOpened(db: Db, id: number, on: string): Promise<void> {
  await db.updateTable('invitees').set({ opened_on: on }).where('id', '=', id).where('opened_on', 'is', null).execute();
}

const started = prepared((db, v: { id: number; on: string }) =>
  db.updateTable('invitees').set({ state: 'started', started_on: v.on }).where('id', '=', v.id).where('state', '=', 'invited'),
);

/** invited -> started, on the first saved page. */
export async function markStarted(db: Db, id: number, on: string): Promise<void> {
  await started(db, { id, on });
}

/** Marks the invitee submitted (date only). Returns false when the invitee was not in a state that allows it. */
export async function markSubmitted(db: Db, id: number, on: string): Promise<boolean> {
  const result = await db
    .updateTable('invitees')
    .set({ state: 'submitted', submitted_on: on })
    .where('id', '=', id)
    .where('state', 'in', ['invited', 'started'] satisfies InviteeState[])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Opt-out, or a refusal by phone or letter: only someone who has not submitted can refuse, also
 * someone whose address bounced (reached by phone, or by the link of a mail that did arrive).
 */
export async function markRefused(db: Db, id: number, on: string): Promise<boolean> {
  const result = await db
    .updateTable('invitees')
    .set({ state: 'refused', refused_on: on })
    .where('id', '=', id)
    .where('state', 'in', ['invited', 'started', 'bounced'] satisfies InviteeState[])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Someone who refused takes part after all: back to invited, or started if they had started. */
export async function unmarkRefused(db: Db, id: number): Promise<boolean> {
  const result = await db
    .updateTable('invitees')
    .set((eb) => ({ state: eb.case().when('started_on', 'is not', null).then('started' as const).else('invited' as const).end(), refused_on: null }))
    .where('id', '=', id)
    .where('state', '=', 'refused')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A permanent delivery failure: no more mail goes to this address. */
export async function markBounced(db: Db, id: number, on: string): Promise<void> {
  await db
    .updateTable('invitees')
    .set({ state: 'bounced', bounced_on: on })
    .where('id', '=', id)
    .where('state', 'in', ['invited', 'started'] satisfies InviteeState[])
    .execute();
}

/** Mail reaches them again (the cause of the bounce was mended): back to invited, or started. */
export async function unmarkBounced(db: Db, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  let changed = 0;
  for (const [state, started] of [['invited', false], ['started', true]] as const) {
    const result = await db
      .updateTable('invitees')
      .set({ state, bounced_on: null })
      .where('id', 'in', ids)
      .where('state', '=', 'bounced')
      .where('started_on', started ? 'is not' : 'is', null)
      .executeTakeFirst();
    changed += Number(result.numUpdatedRows);
  }
  return changed;
}

/** Set by the fieldwork manager (e.g. left office); only before submitting. */
export async function markNotEligible(db: Db, id: number, on: string): Promise<boolean> {
  const result = await db
    .updateTable('invitees')
    .set({ state: 'not_eligible', not_eligible_on: on })
    .where('id', '=', id)
    .where('state', 'in', ['invited', 'started', 'bounced', 'refused'] satisfies InviteeState[])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** By address, in any spelling of it (normalizeEmail: how the import stored it). */
export async function findInviteeByEmail(db: Db, surveyId: string, email: string): Promise<InviteeRow | undefined> {
  return db.selectFrom('invitees').selectAll().where('survey_id', '=', surveyId).where('email', '=', normalizeEmail(email) ?? email.trim().toLowerCase()).executeTakeFirst();
}

const counted = prepared((db, v: { id: number; on: string }) => db.updateTable('invitees').set({ counted_on: v.on }).where('id', '=', v.id).where('counted_on', 'is', null));

/** The respondent reached the page of the counting rule: from now on they count as a response. */
export async function markCounted(db: Db, id: number, on: string): Promise<void> {
  await counted(db, { id, on });
}

/**
 * Their answers in progress were withdrawn: they no longer count as a response. Never for someone
 * who submitted (a response must keep its count); returns whether it applied.
 */
export async function markUncounted(db: Db, id: number): Promise<boolean> {
  const result = await db.updateTable('invitees').set({ counted_on: null }).where('id', '=', id).where('state', '!=', 'submitted').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** What respondents did, as the ledger learns it in a batch (usecases/ledger-marks.ts): dates only. */
export interface RespondentMarks {
  opened?: string;
  started?: string;
  counted?: string;
  submitted?: string;
}

/**
 * Records what a respondent did, each date only where none is recorded yet: opened, started
 * (invited -> started), reached the counting rule, submitted (invited or started -> submitted).
 * A state the fieldwork manager set (refused, not eligible, bounced) stays.
 */
export async function applyRespondentMarks(db: Db, id: number, marks: RespondentMarks): Promise<void> {
  const opened = marks.opened ?? marks.started ?? marks.counted ?? marks.submitted ?? null;
  const started = marks.started ?? marks.counted ?? marks.submitted ?? null;
  const counted = marks.counted ?? marks.submitted ?? null;
  const submitted = marks.submitted ?? null;
  const open = ['invited', 'started'] satisfies InviteeState[];
  await db
    .updateTable('invitees')
    .set((eb) => ({
      opened_on: eb.fn.coalesce('opened_on', eb.val(opened)),
      started_on: eb.fn.coalesce('started_on', eb.val(started)),
      counted_on: eb.fn.coalesce('counted_on', eb.val(counted)),
      ...(submitted !== null
        ? {
            submitted_on: eb.case().when('state', 'in', open).then(submitted).else(eb.ref('submitted_on')).end(),
            state: eb.case().when('state', 'in', open).then('submitted' as const).else(eb.ref('state')).end(),
          }
        : started !== null
          ? { state: eb.case().when('state', '=', 'invited').then('started' as const).else(eb.ref('state')).end() }
          : {}),
    }))
    .where('id', '=', id)
    .execute();
}

/** Invitees whose ledger may lag behind their answers: those who have not (as far as it knows) submitted. */
export async function inviteesThatMayLag(db: Db, surveyId: string): Promise<Pick<InviteeRow, 'id' | 'survey_id' | 'sample' | 'code_sealed' | 'opened_on' | 'started_on' | 'counted_on'>[]> {
  return db
    .selectFrom('invitees')
    .select(['id', 'survey_id', 'sample', 'code_sealed', 'opened_on', 'started_on', 'counted_on'])
    .where('survey_id', '=', surveyId)
    .where('state', 'in', ['invited', 'started'] satisfies InviteeState[])
    .execute();
}

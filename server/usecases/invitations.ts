// Issuing invitations: each invitee gets a typed code and a link token. The database keeps only
// keyed hashes to find them and copies sealed with the server secret for the mails.

import { isPlausibleToken, normalizeTypedCode } from '../domain/codes.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import type { Db } from '../db/connection.ts';
import { findInviteeByCodeLookup, findInviteeByTokenLookup, insertInvitees, type InviteeRow, type NewInvitee } from '../db/invitees.ts';
import type { Secrets } from '../security/secrets.ts';
import { codeLookup, makeInvitationSecrets, tokenLookup, type InvitationSecrets } from './invitation-secrets.ts';

export interface Person {
  email: string;
  name?: string | null;
  salutation?: string | null;
  organisation?: string | null;
  phone?: string | null;
  sample: Record<string, string>;
}

export interface IssuedInvitation {
  email: string;
  code: string;
  token: string;
}


/**
 * Creates invitees with fresh codes, all in one statement group; returns the codes for the
 * caller. `made` are secrets made ahead (a large import); by default they are made here.
 */
export async function issueInvitations(
  db: Db,
  secrets: Secrets,
  surveyId: string,
  people: Person[],
  now: Date,
  made: InvitationSecrets[] = people.map(() => makeInvitationSecrets(secrets)),
): Promise<IssuedInvitation[]> {
  if (made.length !== people.length) throw new Error(`${people.length} invitees but ${made.length} codes`);
  const today = amsterdamDate(now);
  const rows: NewInvitee[] = people.map((p, i) => {
    const { code_lookup, token_lookup, code_sealed, token_sealed } = made[i]!;
    return {
      survey_id: surveyId,
      email: p.email,
      name: p.name ?? null,
      salutation: p.salutation ?? null,
      organisation: p.organisation ?? null,
      phone: p.phone ?? null,
      sample: JSON.stringify(p.sample),
      code_lookup,
      token_lookup,
      code_sealed,
      token_sealed,
      state: 'invited',
      opened_on: null,
      started_on: null,
      submitted_on: null,
      refused_on: null,
      created_on: today,
    };
  });
  await insertInvitees(db, rows);
  return people.map((p, i) => ({ email: p.email, code: made[i]!.code, token: made[i]!.token }));
}

/** The invitee a typed code belongs to, if any (case, spaces and dashes ignored). */
export async function findInviteeByTypedCode(db: Db, secrets: Secrets, typed: string): Promise<InviteeRow | undefined> {
  const code = normalizeTypedCode(typed);
  return code ? findInviteeByCodeLookup(db, codeLookup(secrets, code)) : undefined;
}

export async function findInviteeByToken(db: Db, secrets: Secrets, token: string): Promise<InviteeRow | undefined> {
  return isPlausibleToken(token) ? findInviteeByTokenLookup(db, tokenLookup(secrets, token)) : undefined;
}

/** The invitee's code and token, for mails (needs the server secret). */
export function revealInvitation(secrets: Secrets, invitee: Pick<InviteeRow, 'id' | 'code_sealed' | 'token_sealed'>): { code: string; token: string } {
  const code = secrets.decrypt('code-storage', invitee.code_sealed);
  const token = secrets.decrypt('code-storage', invitee.token_sealed);
  if (!code || !token) throw new Error(`invitee ${invitee.id}: the invitation code cannot be read with this server secret`);
  return { code, token };
}

/**
 * The key of the invitee's draft: a keyed hash of the code under its own purpose, so it matches
 * nothing in the ledger. Without the server secret, a draft cannot be tied to anyone.
 */
export function draftKeyFor(secrets: Secrets, invitee: Pick<InviteeRow, 'id' | 'survey_id' | 'code_sealed'>): string {
  const code = secrets.decrypt('code-storage', invitee.code_sealed);
  if (!code) throw new Error(`invitee ${invitee.id}: the invitation code cannot be read with this server secret`);
  return secrets.hmac('draft-key', `${invitee.survey_id}:${code}`);
}

/**
 * The key of the answer side's record that the invitee submitted (db/submissions.ts): a keyed
 * hash of the draft key under its own purpose, so that it matches neither the ledger nor the
 * draft it replaces, and no byte of the draft key outlives the draft.
 */
export function submissionKeyOf(secrets: Secrets, draftKey: string): string {
  return secrets.hmac('submitted-key', draftKey);
}

/** The key of an invitee's submission record, from their sealed code (needs the server secret). */
export function submissionKeyFor(secrets: Secrets, invitee: Pick<InviteeRow, 'id' | 'survey_id' | 'code_sealed'>): string {
  return submissionKeyOf(secrets, draftKeyFor(secrets, invitee));
}

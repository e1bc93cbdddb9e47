// Kysely table types. Two stores share no key (see ../shared/ARCHITECTURE.md, Anonymity):
// the ledger (surveys, invitees) and the answers (drafts, responses).

import type { Generated } from 'kysely';

export interface QuestionnaireVersionTable {
  /** sha256 of the questionnaire file: a fielded survey is frozen on exactly this text. */
  hash: string;
  questionnaire_id: string;
  version: string;
  source: string;
  created_at: string;
}

export interface SurveyTable {
  id: string;
  title: string;
  questionnaire_hash: string;
  /** JSON: the survey definition (carried strata, calendar, …). */
  definition: string;
  /** ISO instants (UTC). */
  opens_at: string;
  closes_at: string;
  closed_at: string | null;
  created_at: string;
  /** When the first mail went out: from then on the questionnaire version cannot change. */
  frozen_at: string | null;
  /** When contact data was removed after fieldwork. */
  purged_at: string | null;
}

export type InviteeState = 'invited' | 'started' | 'submitted' | 'refused' | 'bounced' | 'not_eligible';

export interface InviteeTable {
  id: Generated<number>;
  survey_id: string;
  email: string;
  name: string | null;
  salutation: string | null;
  organisation: string | null;
  phone: string | null;
  /** JSON: the sample fields (strata) of this invitee. */
  sample: string;
  /** HMAC of the typed code and of the link token: lookups without storing either. */
  code_lookup: string;
  token_lookup: string;
  /** The code and token encrypted with the server secret, for the mails that carry them. */
  code_sealed: string;
  token_sealed: string;
  state: InviteeState;
  /** Dates only (YYYY-MM-DD, Europe/Amsterdam): the ledger never knows a time of day. */
  opened_on: string | null;
  started_on: string | null;
  submitted_on: string | null;
  refused_on: string | null;
  bounced_on: string | null;
  not_eligible_on: string | null;
  /** The date the respondent reached the counting rule's page (a response from then on). */
  counted_on: string | null;
  created_on: string;
  /** The date of their telephone non-response interview (never what they answered). */
  interviewed_on: string | null;
}

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'skipped' | 'failed';

/** One row per (invitee, mailing), written before anything is sent. */
export interface OutboxTable {
  id: Generated<number>;
  survey_id: string;
  invitee_id: number;
  mailing_id: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  created_at: string;
  sent_at: string | null;
  message_id: string | null;
  last_error: string | null;
}

/**
 * How a delivery report that came back later classes the failure: hard, the address is dead
 * (the invitee is marked bounced); soft, it may pass later (delayed, mailbox full, a server down);
 * refused, the recipient's server turned the mail away for a reason that is not the address
 * (spam filter, policy), which is taken up with its IT desk rather than by dropping the invitee.
 */
export type BounceKind = 'hard' | 'soft' | 'refused';

/** A delivery report received for a mail the relay had taken (usecases/bounces.ts). */
export interface BounceTable {
  id: Generated<number>;
  survey_id: string;
  outbox_id: number;
  invitee_id: number;
  kind: BounceKind;
  /** The enhanced status code (RFC 3463), e.g. 5.1.1, when the report gives one. */
  status: string | null;
  /** The remote server's words (Diagnostic-Code) or the report's, on one line. */
  reason: string;
  report_key: string;
  received_at: string;
}

/** What remains of the ledger after purge: counts per stratum. */
export interface StratumCountsTable {
  survey_id: string;
  /** JSON: the stratum values, e.g. {"functie":"burgemeester"}. */
  stratum: string;
  /** JSON: counts per state and per mailing. */
  counts: string;
}

/** An unfinished questionnaire, reachable only through the code (key = HMAC of the code). */
export interface DraftTable {
  key: string;
  survey_id: string;
  /** JSON answers. */
  answers: string;
  /** JSON: the coarse strata carried onto the response. */
  strata: string;
  /** Index of the page to resume at: the one after the page submitted last. */
  current_page: number;
  /** Index of the furthest page reached (for the counting rule and for going back). */
  furthest_page: number;
  /** Raised on every saved page; a form posted with an older version is stale. */
  version: number;
  /** Raised when the respondent ends their session ("later"): cookies of an earlier round open nothing. */
  session_round: Generated<number>;
}

/** An anonymous response: random id, no code, no invitee, no time. */
export interface ResponseTable {
  id: string;
  survey_id: string;
  questionnaire_id: string;
  questionnaire_version: string;
  questionnaire_hash: string;
  answers: string;
  strata: string;
  status: 'complete' | 'partial';
  /** Partial responses: index of the first page never submitted (from there on: not reached). */
  reached_page: number | null;
}

/**
 * A questionnaire submitted, on the answer side: keyed by HMAC(submitted-key) of the draft key,
 * written with the response, so that the code closes at once while the ledger learns it later.
 */
export interface SubmissionTable {
  key: string;
  survey_id: string;
}

export type AdminRole = 'fieldwork' | 'analyst';

export interface AdminAccountTable {
  email: string;
  /** scrypt$N$r$p$salt$hash (base64): never the password. */
  password_hash: string;
  role: AdminRole;
  created_at: string;
  disabled_at: string | null;
}

/** Server-side admin sessions; the cookie holds the token, the table only its sha256. */
export interface AdminSessionTable {
  token_hash: string;
  email: string;
  expires_at: string;
}

/** Every admin action: who, what, when, on which survey. */
export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  survey_id: string | null;
  detail: string | null;
}

export type CallOutcome = 'no-answer' | 'call-back' | 'will-respond' | 'wrong-number' | 'refused' | 'not-eligible';

/** A call to a non-responder and what it brought. */
export interface CallTable {
  id: Generated<number>;
  survey_id: string;
  invitee_id: number;
  /** A date only (YYYY-MM-DD, Europe/Amsterdam), like the rest of the ledger. */
  called_on: string;
  outcome: CallOutcome;
  call_back_on: string | null;
  note: string | null;
}

/** Answers to the telephone non-response questions: like a response, linked to nobody. */
export interface NonResponseAnswerTable {
  /** Random: the order of the rows says nothing about the order of the interviews. */
  id: string;
  survey_id: string;
  /** JSON: the carried strata, as on responses. */
  strata: string;
  /** JSON: question id -> option code. */
  answers: string;
}

export interface SettingTable {
  key: string;
  value: string;
}

export interface Database {
  questionnaire_versions: QuestionnaireVersionTable;
  surveys: SurveyTable;
  invitees: InviteeTable;
  drafts: DraftTable;
  responses: ResponseTable;
  submissions: SubmissionTable;
  outbox: OutboxTable;
  bounces: BounceTable;
  stratum_counts: StratumCountsTable;
  admin_accounts: AdminAccountTable;
  admin_sessions: AdminSessionTable;
  audit_log: AuditLogTable;
  settings: SettingTable;
  calls: CallTable;
  nonresponse_answers: NonResponseAnswerTable;
}

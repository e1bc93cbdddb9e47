// Every migration, in order. Listed explicitly (rather than read from the folder) so that the
// Migrator gets the same set whether the code runs from source or from a bundle.
import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001_initial.ts';
import * as fieldwork from './0002_fieldwork.ts';
import * as counted from './0003_counted.ts';
import * as admin from './0004_admin.ts';
import * as overview from './0005_ledger_overview.ts';
import * as settings from './0006_settings.ts';
import * as calls from './0007_calls.ts';
import * as nonresponse from './0008_nonresponse.ts';
import * as submissions from './0009_submissions.ts';
import * as sessionRound from './0010_draft_session_round.ts';
import * as bounces from './0011_bounces.ts';

const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_fieldwork': fieldwork,
  '0003_counted': counted,
  '0004_admin': admin,
  '0005_ledger_overview': overview,
  '0006_settings': settings,
  '0007_calls': calls,
  '0008_nonresponse': nonresponse,
  '0009_submissions': submissions,
  '0010_draft_session_round': sessionRound,
  '0011_bounces': bounces,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};

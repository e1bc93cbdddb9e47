// The demo survey a newcomer gets on an empty database: the real OWB 2024 questionnaire, open
// for five weeks, with one invitation per type of office holder.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/connection.ts';
import { countSurveys } from '../db/surveys.ts';
import { formatCode } from '../domain/codes.ts';
import type { Secrets } from '../security/secrets.ts';
import { issueInvitations, revealInvitation } from './invitations.ts';
import { createSurvey } from './surveys.ts';

export const DEMO_SURVEY_ID = 'demo-owb-2024';
const FUNCTIES = ['burgemeester', 'wethouder', 'raadslid', 'cdk', 'gedeputeerde', 'statenlid'];

export interface DemoLink {
  functie: string;
  link: string;
  code: string;
}

/** Creates the demo survey if the database has no survey yet. Returns whether it did. */
export async function ensureDemoSurvey(db: Db, secrets: Secrets, questionnairesDir: string, now: Date): Promise<boolean> {
  if ((await countSurveys(db)) > 0) return false;
  await createSurvey(
    db,
    {
      id: DEMO_SURVEY_ID,
      title: 'Demo: Ondersteuningsteam Weerbaar Bestuur 2024',
      questionnaireSource: readFileSync(join(questionnairesDir, 'owb-2024.json'), 'utf8'),
      settings: { carry: ['functie'] },
      opensAt: now,
      closesAt: new Date(now.getTime() + 35 * 24 * 3600 * 1000),
    },
    now,
  );
  await issueInvitations(
    db,
    secrets,
    DEMO_SURVEY_ID,
    FUNCTIES.map((functie) => ({ email: `${functie}@demo.invalid`, name: `Demo ${functie}`, sample: { functie } })),
    now,
  );
  return true;
}

/** The demo invitations (links and typed codes), for printing at start-up. */
export async function demoLinks(db: Db, secrets: Secrets, publicUrl: string): Promise<DemoLink[]> {
  const invitees = await db.selectFrom('invitees').selectAll().where('survey_id', '=', DEMO_SURVEY_ID).orderBy('id').execute();
  return invitees.map((invitee) => {
    const { code, token } = revealInvitation(secrets, invitee);
    return { functie: (JSON.parse(invitee.sample) as { functie: string }).functie, link: `${publicUrl}/s/${token}`, code: formatCode(code) };
  });
}

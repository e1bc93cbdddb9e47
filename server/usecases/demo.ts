// The demo survey a newcomer gets on an empty database: the real OWB 2024 questionnaire, open
// for five weeks from now, with one invitation per type of office holder. Its send window is
// always open, so the invitations go out (as .eml files, without SMTP) right away.
import type { Db } from '../db/connection.ts';
import { countSurveys } from '../db/surveys.ts';
import { formatCode } from '../domain/codes.ts';
import { dateKey, toWallTime } from '../domain/survey/zoned-time.ts';
import type { Secrets } from '../security/secrets.ts';
import { issueInvitations, revealInvitation } from './invitations.ts';
import { checkDefinition, saveSurvey } from './surveys.ts';

export const DEMO_SURVEY_ID = 'demo-owb-2024';
const FUNCTIES = ['burgemeester', 'wethouder', 'raadslid', 'cdk', 'gedeputeerde', 'statenlid'];

export interface DemoLink {
  functie: string;
  link: string;
  code: string;
}

export function demoDefinition(now: Date) {
  const wall = toWallTime(now, 'Europe/Amsterdam');
  const opens = `${dateKey(wall)}T${String(wall.hour).padStart(2, '0')}:${String(wall.minute).padStart(2, '0')}`;
  return {
    id: DEMO_SURVEY_ID,
    title: 'Demo: Ondersteuningsteam Weerbaar Bestuur 2024',
    questionnaire: 'owb-2024.json',
    sample: { strata: ['functie'], carry: ['functie'] },
    calendar: {
      opens,
      closes: 'P35D',
      sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' },
      mailings: [
        { id: 'invitation', kind: 'invitation', at: 'P0D' },
        { id: 'reminder1', kind: 'reminder', at: 'P10D' },
        { id: 'reminder2', kind: 'reminder', at: 'P21D' },
      ],
    },
    mail: { from: 'Demo-onderzoek <onderzoek@demo.invalid>', organisation: 'het demonstratieteam van enquete' },
  };
}

/**
 * Creates the demo survey if the database has no survey yet. Returns whether it did. Two servers
 * started at once on an empty database may both find none: the one that creates it second finds
 * it there (the survey's key) and leaves it to the first.
 */
export async function ensureDemoSurvey(db: Db, secrets: Secrets, questionnairesDir: string, now: Date): Promise<boolean> {
  if ((await countSurveys(db)) > 0) return false;
  const checked = checkDefinition(demoDefinition(now), questionnairesDir);
  if (!checked.ok) throw new Error(`the demo survey definition is invalid: ${JSON.stringify(checked.problems)}`);
  try {
    if ((await saveSurvey(db, checked.survey, now)) !== 'created') return false;
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) return false;
    throw e;
  }
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

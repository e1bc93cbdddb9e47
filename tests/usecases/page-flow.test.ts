// The page flow's rules without HTTP (usecases/page-flow.ts): which page a respondent may see,
// what a posted page does, and how an older version of a page is told apart: this session's own
// history (Back, a kept copy, a double click) saves; another device's save since is a conflict.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { loadRespondent, type Respondent } from '../../server/usecases/answering.ts';
import { draftKeyFor } from '../../server/usecases/invitations.ts';
import { pageToShow, submitPage, type PageAction, type PageOutcome } from '../../server/usecases/page-flow.ts';
import { testServer, type TestServer } from '../helpers/app.ts';

let server: TestServer;
let load: () => Promise<Respondent>;
/** The draft version each "session" saved last, as its cookie would hold it. */
const wrote = new Map<string, number>();

beforeEach(async () => {
  server = await testServer();
  await server.survey('owb-2024', [{ email: 'r@gemeente.test', sample: {} }]);
  const invitee = (await findInviteeByEmail(server.app.db, 'owb-2024', 'r@gemeente.test'))!;
  const session = { invitee: invitee.id, draftKey: draftKeyFor(server.app.secrets, invitee) };
  load = async () => (await loadRespondent(server.app.db, server.app.secrets, server.app.questionnaires, session))!;
  wrote.clear();
});
afterEach(() => server.close());

const deps = () => ({ db: server.app.db, secrets: server.app.secrets, marks: server.app.ledgerMarks });

/** Posts a page as a browser shows it, in session `who`, with the version the page was shown with. */
async function post(who: string, page: string, form: Record<string, string[]>, version: number, action: PageAction = 'next'): Promise<PageOutcome> {
  const outcome = await submitPage(deps(), await load(), page, { form, version, action }, wrote.get(who), server.clock.now, load);
  if (outcome.kind === 'saved' || outcome.kind === 'stopped') wrote.set(who, outcome.version);
  return outcome;
}
const shownVersion = async (page: string) => {
  const shown = pageToShow(await load(), page, server.clock.now);
  if (shown.kind !== 'show') throw new Error(`${page} is not shown`);
  return shown.view.version;
};
const stored = async () => (await load()).answers;

describe('which page is shown', () => {
  it('the pages up to the furthest reached, filled in as stored; not a page further on, not an unknown one, not after close', async () => {
    expect(pageToShow(await load(), 'welkom', server.clock.now).kind).toBe('show');
    expect(pageToShow(await load(), 'H1', server.clock.now).kind).toBe('elsewhere');
    expect(pageToShow(await load(), 'nope', server.clock.now).kind).toBe('elsewhere');
    await post('phone', 'welkom', {}, 0);
    await post('phone', 'H1', { Q1: ['verbale_agressie'] }, 1);
    const shown = pageToShow(await load(), 'H1', server.clock.now);
    expect(shown).toMatchObject({ kind: 'show', view: { form: { Q1: ['verbale_agressie'] }, errors: [], version: 2 } });
    expect(pageToShow(await load(), 'H1', new Date('2024-07-10T12:00:00Z')).kind).toBe('elsewhere');
  });
});

describe('a posted page', () => {
  it('goes on to the page its answers route to', async () => {
    expect(await post('phone', 'welkom', {}, 0)).toMatchObject({ kind: 'saved', next: { id: 'H1' }, version: 1 });
    expect(await post('phone', 'H1', { Q1: ['geen'] }, 1)).toMatchObject({ kind: 'saved', next: { id: 'H3' } });
    expect(await stored()).toEqual({ Q1: ['geen'] });
  });

  it('with a missing answer, going on: shown again as posted, with the error, nothing saved', async () => {
    await post('phone', 'welkom', {}, 0);
    const outcome = await post('phone', 'H1', { Q1: [] }, 1);
    expect(outcome.kind).toBe('invalid');
    if (outcome.kind !== 'invalid') return;
    expect(outcome.view.errors.map((e) => e.field)).toEqual(['Q1']);
    expect(outcome.view.block.id).toBe('H1');
    expect(await stored()).toEqual({});
  });

  it('with a wrong answer, going back or stopping: what is valid is saved, the wrong one keeps its stored value', async () => {
    await post('phone', 'welkom', {}, 0);
    await post('phone', 'H1', { Q1: ['verbale_agressie'] }, 1);
    // 'geen' cannot be combined with another answer.
    expect(await post('phone', 'H1', { Q1: ['geen', 'discriminatie'] }, 2, 'previous')).toMatchObject({ kind: 'saved', next: { id: 'welkom' } });
    expect(await stored()).toEqual({ Q1: ['verbale_agressie'] });
    expect(await post('phone', 'H1', { Q1: ['discriminatie'] }, 3, 'later')).toEqual({ kind: 'stopped', version: 4 });
    expect(await stored()).toEqual({ Q1: ['discriminatie'] });
  });

  it('the last page finishes: the answers become a response; on the way progress only grew, its whole never changed', async () => {
    let version = 0;
    let page = 'welkom';
    const progress: number[] = [];
    const answers: Record<string, Record<string, string[]>> = { H1: { Q1: ['geen'] }, H5: { Q15: ['goed'] } };
    for (;;) {
      const shown = pageToShow(await load(), page, server.clock.now);
      if (shown.kind === 'show') progress.push(shown.view.progress);
      const outcome = await post('phone', page, answers[page] ?? {}, version);
      if (outcome.kind === 'finished') break;
      if (outcome.kind !== 'saved') throw new Error(`${page}: ${outcome.kind}`);
      ({ version } = outcome);
      page = outcome.next.id;
    }
    expect(page).toBe('H6');
    expect((await load()).submitted).toBe(true);
    // 'geen' skips the aggression pages: progress leaps ahead there, and never goes back.
    expect(progress).toEqual([0, 8, 50, 58, 67, 75, 83, 92]);
  });
});

describe('a page posted with an older version', () => {
  async function pastH1(who = 'phone') {
    await post(who, 'welkom', {}, 0);
    const h1 = await shownVersion('H1');
    await post(who, 'H1', { Q1: ['verbale_agressie'] }, h1);
    return h1;
  }

  it("from this session's own history (Back): saved over what is stored, and routed by the new answer", async () => {
    const h1 = await pastH1();
    expect(await post('phone', 'H1', { Q1: ['geen'] }, h1)).toMatchObject({ kind: 'saved', next: { id: 'H3' } });
    expect(await stored()).toEqual({ Q1: ['geen'] });
  });

  it('a double click: the second post, sent before the first came back, holds what is stored: on to where the respondent is', async () => {
    const h1 = await pastH1();
    wrote.set('phone', h1); // the second click carried the cookie from before the first save
    expect(await post('phone', 'H1', { Q1: ['verbale_agressie'] }, h1)).toEqual({ kind: 'elsewhere' });
    expect(await stored()).toEqual({ Q1: ['verbale_agressie'] });
  });

  it('after another device saved: the page as it now stands, with the conflict notice; nothing is saved over it', async () => {
    await post('phone', 'welkom', {}, 0);
    const h1 = await shownVersion('H1');
    await post('laptop', 'H1', { Q1: ['verbale_agressie'] }, h1);
    const outcome = await post('phone', 'H1', { Q1: ['geen'] }, h1);
    expect(outcome).toMatchObject({ kind: 'conflict', view: { notice: 'conflictNotice', form: { Q1: ['verbale_agressie'] }, version: h1 + 1 } });
    expect(await stored()).toEqual({ Q1: ['verbale_agressie'] });
    // Going on from the page as it now stands saves as usual.
    expect(await post('phone', 'H1', { Q1: ['discriminatie'] }, h1 + 1)).toMatchObject({ kind: 'saved', next: { id: 'H1_reactie' } });
  });
});

// The preview's rules without HTTP (usecases/preview.ts): pages by the route the answers take,
// a page jumped to off that route, why things are shown, a posted page, and state that survives
// the trip in a link (and a broken one that starts afresh).
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, previewPage, previewSubmit } from '../../server/usecases/preview.ts';
import { referenceQuestionnaire } from '../helpers/questionnaires.ts';

const owb = referenceQuestionnaire('owb-2024');

describe('the preview', () => {
  it('follows the route the answers take, and shows a page jumped to off it, saying so', () => {
    const state = { answers: { Q1: ['geen'] }, sample: { functie: 'burgemeester' } };
    const reactie = previewPage(owb, state, 'H1_reactie')!;
    expect(reactie.onRoute).toBe(false);
    expect(reactie.route).not.toContain('H1_reactie');
    expect(reactie.pageWhy).toBe('AGRESSIE');
    expect(previewPage(owb, state, 'H3')!.onRoute).toBe(true);
    expect(previewPage(owb, state, 'nope')).toBeUndefined();
  });

  it('goes on by the answers posted, shows a mistake again, and goes back', () => {
    const state = { answers: {}, sample: { functie: 'burgemeester' } };
    expect(previewSubmit(owb, state, 'H1', { Q1: ['verbale_agressie'] }, 'next')).toMatchObject({ kind: 'go', pageId: 'H1_reactie', state: { answers: { Q1: ['verbale_agressie'] } } });
    const wrong = previewSubmit(owb, state, 'H1', { Q1: [] }, 'next')!;
    expect(wrong.kind).toBe('invalid');
    expect(wrong.kind === 'invalid' && wrong.page.view.errors.map((e) => e.field)).toEqual(['Q1']);
    expect(previewSubmit(owb, state, 'H1', {}, 'previous')).toMatchObject({ kind: 'go', pageId: 'welkom' });
    // The last page leads to the end.
    expect(previewSubmit(owb, { answers: { Q1: ['geen'] }, sample: state.sample }, 'H6', { Q19: ['eens'] }, 'next')).toMatchObject({ kind: 'go', pageId: undefined });
  });

  it('carries its state in a link, and starts afresh from a broken one', () => {
    const state = { answers: { Q1: ['geen'], Q15: 'goed' }, sample: { functie: 'wethouder' } };
    expect(decodeState(encodeState(state))).toEqual(state);
    expect(decodeState('not base64 json')).toEqual({ answers: {}, sample: {} });
    expect(decodeState(Buffer.from(JSON.stringify({ a: [1], s: { functie: 3 } })).toString('base64url'))).toEqual({ answers: {}, sample: {} });
  });
});

// Routing of the reference questionnaires, as the reports describe it (seed-owb.md G3, and the
// routing summaries of seed-monitor-2024.md and seed-monitor-2020.md).
import { describe, expect, it } from 'vitest';
import { environment, prune, renderText, shownBlocks, shownItems, validatePage, validationMessage, visibleOptions, type Answers, type SampleValues } from '../../server/domain/questionnaire/index.ts';
import { inlineQuestionnaire, referenceQuestionnaire } from '../helpers/questionnaires.ts';

const owb = referenceQuestionnaire('owb-2024');
const m24 = referenceQuestionnaire('monitor-2024-agressie');
const m20 = referenceQuestionnaire('monitor-2020-pa');

const pages = (q: typeof owb, answers: Answers, sample: SampleValues = {}): string[] => shownBlocks(q, answers, sample).map((b) => b.id);
const item = (q: typeof owb, id: string) => q.items.get(id)!;
const options = (q: typeof owb, id: string, answers: Answers, sample: SampleValues = {}): string[] =>
  visibleOptions(item(q, id), environment(q, answers, sample)).map((o) => o.code);

describe('OWB 2024 routing', () => {
  const burgemeester = { functie: 'burgemeester' };

  it('does not ask the reaction or the support chapter of someone without aggression (G3)', () => {
    const shown = pages(owb, { Q1: ['geen'] }, burgemeester);
    expect(shown).not.toContain('H1_reactie');
    expect(shown).not.toContain('H2');
    expect(shown).toContain('H3');
  });

  it('asks the reaction, and the support chapter only when support was sought (G3)', () => {
    expect(pages(owb, { Q1: ['verbale_agressie'], Q2: ['niets'] }, burgemeester)).toEqual(
      expect.arrayContaining(['H1_reactie']),
    );
    expect(pages(owb, { Q1: ['verbale_agressie'], Q2: ['niets'] }, burgemeester)).not.toContain('H2');
    expect(pages(owb, { Q1: ['verbale_agressie'], Q2: ['ondersteuning_gezocht'] }, burgemeester)).toEqual(
      expect.arrayContaining(['H2', 'H2_waardering', 'H2_stellingen']),
    );
  });

  it('drops the support chapter answers when an earlier answer changes (going back)', () => {
    const answers: Answers = {
      Q1: ['verbale_agressie'],
      Q2: ['ondersteuning_gezocht', 'anders'],
      'Q2.anders': 'met de burgemeester gesproken',
      Q3: ['griffie'],
      Q6: 'voldoende',
      Q7: 'Goed geholpen',
      Q9: ['melden'],
    };
    expect(prune(owb, answers, burgemeester)).toEqual(answers);
    const changed = prune(owb, { ...answers, Q1: ['geen'] }, burgemeester);
    expect(changed).toEqual({ Q1: ['geen'], Q9: ['melden'] });
  });

  it('drops the text of an "other" option that is no longer ticked', () => {
    const answers: Answers = { Q1: ['verbale_agressie'], 'Q1.anders': 'oud antwoord' };
    expect(prune(owb, answers, burgemeester)).toEqual({ Q1: ['verbale_agressie'] });
  });

  it('words the colleagues option and the organisation by bestuurslaag (sample field)', () => {
    const env = (functie: string) => environment(owb, {}, { functie });
    const label = (functie: string) => renderText(owb, item(owb, 'Q3').options[0]!.def.label, 'nl', env(functie));
    expect(label('raadslid')).toBe('collega raadsleden, wethouders of burgemeesters');
    expect(label('statenlid')).toBe('collega statenleden, gedeputeerden of de Commissaris van de Koning');
    expect(renderText(owb, item(owb, 'Q19').def.text, 'nl', env('gedeputeerde'))).toContain('Mijn provincie besteedt');
  });

  it('pipes the label of an earlier answer into a later question', () => {
    const text = renderText(owb, item(owb, 'Q7').def.text, 'nl', environment(owb, { Q6: 'ruim_voldoende' }, burgemeester));
    expect(text).toBe('U vond de inhoud van de ondersteuning: Ruim voldoende nuttig. Kunt u uw waardering toelichten?');
  });

  it('skips the explanation when the rating was "weet niet"', () => {
    const env = environment(owb, { Q1: ['fysieke_agressie'], Q2: ['ondersteuning_gezocht'], Q6: 'weet_niet' }, burgemeester);
    const stellingen = owb.blocks.find((b) => b.id === 'H2_stellingen')!;
    expect(shownItems(stellingen, env).map((i) => i.id)).toEqual(['Q8']);
  });

  it('falls back to Dutch where a text has no translation', () => {
    expect(renderText(owb, item(owb, 'Q1').def.text, 'en', environment(owb, {}, burgemeester))).toMatch(/^Heeft u in de afgelopen periode/);
    expect(renderText(owb, owb.def.end.text, 'en', environment(owb, {}, burgemeester))).toMatch(/^Thank you/);
  });
});

describe('Monitor 2024 routing', () => {
  const victim: Answers = { Q1: 'gemeente', Q2: 'burgemeester', Q5: { verbaal: 'drie_tot_vijf', fysiek: 'nooit' } };

  it('offers the functions of the chosen bestuurslaag only', () => {
    expect(options(m24, 'Q2', { Q1: 'waterschap' })).toEqual(['dijkgraaf', 'lid_db', 'lid_ab']);
    expect(options(m24, 'Q2', { Q1: 'provincie' })).toEqual(['cdk', 'gedeputeerde', 'statenlid']);
  });

  it('asks the incident block only of victims (any prevalence row above "nooit")', () => {
    expect(pages(m24, { ...victim, Q5: { verbaal: 'nooit', bedreiging: 'nooit' } })).not.toContain('C_incident');
    expect(pages(m24, victim)).toContain('C_incident');
  });

  it('offers as main channel only the channels ticked before, and only when two or more were', () => {
    const online: Answers = { ...victim, Q6: { offline: 1, online: 3 } };
    expect(pages(m24, { ...online, Q8: ['x'] })).not.toContain('B_hoofdkanaal');
    expect(options(m24, 'Q9', { ...online, Q8: ['email', 'x', 'anders'] })).toEqual(['email', 'x', 'anders']);
    expect(pages(m24, { ...online, Q8: ['email', 'x'] })).toContain('B_hoofdkanaal');
  });

  it('does not offer chairs the option of reporting to themselves', () => {
    expect(options(m24, 'Q19', victim)).not.toContain('voorzitter');
    expect(options(m24, 'Q19', { ...victim, Q2: 'wethouder' })).toContain('voorzitter');
  });

  it('asks why nothing was discussed or reported only when both were "no"', () => {
    const env = (a: Answers) => environment(m24, { ...victim, ...a }, {});
    const page = m24.blocks.find((b) => b.id === 'D_tevredenheid')!;
    expect(shownItems(page, env({ Q18: ['niet_besproken'], Q19: ['niet_gemeld'] })).map((i) => i.id)).toEqual(['Q22', 'Q23']);
    expect(shownItems(page, env({ Q18: ['collega'], Q19: ['niet_gemeld'] })).map((i) => i.id)).toEqual(['Q20', 'Q23']);
  });

  it('offers only the forms of aggression reported for the most recent incident', () => {
    expect(options(m24, 'Q10', { ...victim, Q5: { verbaal: 'eenmalig', intimidatie: 'twee_keer', fysiek: 'nooit' } })).toEqual(['verbaal', 'intimidatie']);
  });
});

describe('Monitor 2020 routing', () => {
  it('offers contact persons per bestuurslaag', () => {
    const base: Answers = { Q2: 'raadslid', Q6: { verbaal: 'een_keer' } };
    expect(options(m20, 'Q15', { ...base, Q1: 'gemeente' })).toEqual(['fractie', 'burgemeester', 'collega', 'griffier', 'iemand_anders', 'met_niemand']);
    expect(options(m20, 'Q15', { ...base, Q1: 'waterschap' })).toEqual(['fractie', 'dijkgraaf', 'collega', 'secretaris_directeur', 'partij', 'iemand_anders', 'met_niemand']);
  });

  it('asks the disinformation follow-up only when disinformation occurs', () => {
    expect(pages(m20, { Q1: 'gemeente', Q39: 'nooit' })).not.toContain('desinformatie_gevolgen');
    expect(pages(m20, { Q1: 'gemeente', Q39: 'maandelijks' })).toContain('desinformatie_gevolgen');
  });

  it('pipes the representative body of the bestuurslaag and addresses chairs as "u"', () => {
    const q38 = item(m20, 'Q38');
    const env = environment(m20, { Q1: 'provincie', Q2: 'cdk' }, {});
    expect(renderText(m20, q38.def.text, 'nl', env)).toMatch(/^Hoe geeft u als voorzitter van het dagelijks bestuur uiting/);
    expect(renderText(m20, q38.options[0]!.def.label, 'nl', env)).toBe('Door het initiëren van bijeenkomsten met de provinciale staten');
  });
});

describe('piped texts as respondents read them', () => {
  const q = inlineQuestionnaire({
    id: 'pipes',
    version: '1',
    title: 'Pipes',
    counting: { reached: 'wanneer' },
    blocks: [
      {
        id: 'eerst',
        items: [
          { id: 'wanneer', type: 'date', text: 'Wanneer gebeurde het?', required: false },
          { id: 'waar', type: 'open', text: 'Waar?', required: false },
          { id: 'aantal', type: 'number', text: 'Hoe vaak?', required: false },
        ],
      },
      {
        id: 'daarna',
        items: [
          {
            id: 'delen',
            type: 'split',
            text: 'Hoeveel daarvan online (op {wanneer|een onbekende datum}, {waar|ergens})?',
            parts: [
              { code: 'offline', label: 'Offline' },
              { code: 'online', label: 'Online' },
            ],
            max: 99,
            rules: [{ assert: 'sum(delen) == aantal', message: 'Samen moet dit {aantal} zijn.' }],
          },
        ],
      },
    ],
    end: { text: 'Dank u.' },
  });
  const text = (answers: Answers) => renderText(q, q.items.get('delen')!.def.text, 'nl', environment(q, answers, {}));

  it('shows a date as people write it, in Dutch and in English', () => {
    expect(text({ wanneer: '2025-03-15', waar: 'het gemeentehuis' })).toBe('Hoeveel daarvan online (op 15 maart 2025, het gemeentehuis)?');
    expect(renderText(q, q.items.get('delen')!.def.text, 'en', environment(q, { wanneer: '2025-03-15', waar: 'x' }, {}))).toContain('15 March 2025');
  });

  it("gives an unanswered optional question the author's fallback text instead of a gap", () => {
    expect(text({})).toBe('Hoeveel daarvan online (op een onbekende datum, ergens)?');
  });

  it("fills in the pipes of a rule's message", () => {
    const page = q.blocks[1]!;
    const [error] = validatePage(q, page, { delen: { offline: 1, online: 1 } }, { aantal: 3 }, {});
    expect(validationMessage(error!, 'nl', 'split', (t) => renderText(q, t, 'nl', environment(q, { aantal: 3 }, {})))).toBe('Samen moet dit 3 zijn.');
  });
});

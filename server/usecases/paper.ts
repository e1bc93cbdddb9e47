// The questionnaire on paper as an HTML document with a print stylesheet (survey print), from the
// words of domain/analysis/paper.ts and templates/print/questionnaire.hbs.

import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { paperVersion } from '../domain/analysis/paper.ts';
import type { Questionnaire } from '../domain/questionnaire/index.ts';

const TEMPLATE = new URL('../../templates/print/questionnaire.hbs', import.meta.url);
let compiled: Handlebars.TemplateDelegate | undefined;

const TEXT = {
  nl: { questionnaire: 'Vragenlijst', version: 'versie', page: 'Pagina', onlyIf: 'Alleen als', optional: 'niet verplicht', members: 'Rijen of onderdelen:', end: 'Slottekst:' },
  en: { questionnaire: 'Questionnaire', version: 'version', page: 'Page', onlyIf: 'Only if', optional: 'optional', members: 'Rows or parts:', end: 'Closing text:' },
};

export function questionnaireOnPaper(q: Questionnaire, lang = 'nl'): string {
  compiled ??= Handlebars.compile(readFileSync(TEMPLATE, 'utf8'), { strict: false });
  return compiled({ doc: paperVersion(q, lang), t: lang === 'en' ? TEXT.en : TEXT.nl });
}

// Respondent-facing validation messages, Dutch first. Add a language by adding a catalogue.

import { textIn } from './runtime.ts';
import type { ValidationCode, ValidationError } from './validate.ts';

type Catalogue = { [code in ValidationCode]: string };

const nl: Catalogue = {
  required: 'Beantwoord deze vraag.',
  requiredRow: 'Kies een antwoord in deze rij.',
  invalidOption: 'Kies een van de aangeboden antwoorden.',
  exclusive: 'Dit antwoord kunt u niet combineren met andere antwoorden.',
  minSelected: 'Kies ten minste {min} antwoorden.',
  maxSelected: 'Kies ten hoogste {max} antwoorden.',
  otherTextMissing: 'Vul in wat u bedoelt.',
  tooLong: 'Uw antwoord is te lang (ten hoogste {max} tekens).',
  notANumber: 'Vul een getal in.',
  notWhole: 'Vul een heel getal in.',
  belowMin: 'Vul een getal in van ten minste {min}.',
  aboveMax: 'Vul een getal in van ten hoogste {max}.',
  invalidDate: 'Vul een geldige datum in.',
  dateBefore: 'Vul een datum in vanaf {min}.',
  dateAfter: 'Vul een datum in tot en met {max}.',
  rankingCount: 'Kies precies {count} plaatsen, elk antwoord één keer.',
  rankingDuplicate: 'Gebruik elk antwoord maar één keer.',
  rule: 'Dit antwoord klopt niet met een eerder antwoord.',
};

const en: Catalogue = {
  required: 'Please answer this question.',
  requiredRow: 'Please choose an answer in this row.',
  invalidOption: 'Please choose one of the answers offered.',
  exclusive: 'This answer cannot be combined with other answers.',
  minSelected: 'Please choose at least {min} answers.',
  maxSelected: 'Please choose at most {max} answers.',
  otherTextMissing: 'Please say what you mean.',
  tooLong: 'Your answer is too long (at most {max} characters).',
  notANumber: 'Please enter a number.',
  notWhole: 'Please enter a whole number.',
  belowMin: 'Please enter a number of at least {min}.',
  aboveMax: 'Please enter a number of at most {max}.',
  invalidDate: 'Please enter a valid date.',
  dateBefore: 'Please enter a date from {min}.',
  dateAfter: 'Please enter a date up to {max}.',
  rankingCount: 'Please fill exactly {count} places, each answer once.',
  rankingDuplicate: 'Please use each answer only once.',
  rule: 'This answer does not match an earlier answer.',
};

const catalogues: { [lang: string]: Catalogue } = { nl, en };

export function validationMessage(error: ValidationError, lang: string): string {
  if (error.message) return textIn(error.message, lang);
  const template = (catalogues[lang] ?? nl)[error.code];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => String(error.params?.[name] ?? whole));
}

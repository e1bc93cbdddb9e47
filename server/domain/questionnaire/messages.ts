// Respondent-facing validation messages, Dutch first. Add a language by adding a catalogue.

import { dateText, textIn } from './runtime.ts';
import type { ItemDef, TextValue } from './schema.ts';
import type { ValidationCode, ValidationError } from './validate.ts';

type Kind = Exclude<ItemDef['type'], 'display'>;
/** A message per code; "required" also per kind of question, to say what is missing. */
type Catalogue = { [code in ValidationCode]: string } & { [kind in `required_${Kind}`]?: string };

const nl: Catalogue = {
  required: 'Beantwoord deze vraag.',
  required_single: 'Kies een antwoord.',
  required_scale: 'Kies een antwoord op de schaal.',
  required_multi: 'Kies een of meer antwoorden.',
  required_grid: 'Kies in elke rij een antwoord.',
  required_open: 'Vul uw antwoord in.',
  required_number: 'Vul een getal in.',
  required_date: 'Vul een datum in, bijvoorbeeld 15-3-2024.',
  required_ranking: 'Zet de antwoorden op volgorde.',
  required_split: 'Vul de aantallen in.',
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
  invalidDate: 'Dit is geen datum. Vul dag, maand en jaar in, bijvoorbeeld 15-3-2024.',
  dateBefore: 'Vul een datum in vanaf {min}.',
  dateAfter: 'Vul een datum in tot en met {max}.',
  rankingCount: 'Kies precies {count} plaatsen, elk antwoord één keer.',
  rankingDuplicate: 'Gebruik elk antwoord maar één keer.',
  rule: 'Dit antwoord klopt niet met een eerder antwoord.',
};

const en: Catalogue = {
  required: 'Please answer this question.',
  required_single: 'Please choose an answer.',
  required_scale: 'Please choose an answer on the scale.',
  required_multi: 'Please choose one or more answers.',
  required_grid: 'Please choose an answer in each row.',
  required_open: 'Please enter your answer.',
  required_number: 'Please enter a number.',
  required_date: 'Please enter a date, for example 15-3-2024.',
  required_ranking: 'Please put the answers in order.',
  required_split: 'Please enter the numbers.',
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
  invalidDate: 'This is not a date. Please enter day, month and year, for example 15-3-2024.',
  dateBefore: 'Please enter a date from {min}.',
  dateAfter: 'Please enter a date up to {max}.',
  rankingCount: 'Please fill exactly {count} places, each answer once.',
  rankingDuplicate: 'Please use each answer only once.',
  rule: 'This answer does not match an earlier answer.',
};

const catalogues: { [lang: string]: Catalogue } = { nl, en };

/**
 * The message for an error, in `lang`; `kind`: the kind of question it is about, for "required";
 * `render`: fills in the pipes of an author's message ("Samen moet dit {Q7} zijn").
 */
export function validationMessage(error: ValidationError, lang: string, kind?: ItemDef['type'], render?: (text: TextValue) => string): string {
  if (error.message) return render ? render(error.message) : textIn(error.message, lang);
  const catalogue = catalogues[lang] ?? nl;
  const template = (error.code === 'required' && kind && kind !== 'display' ? catalogue[`required_${kind}`] : undefined) ?? catalogue[error.code];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = error.params?.[name];
    if (value === undefined) return whole;
    return error.code === 'dateBefore' || error.code === 'dateAfter' ? dateText(String(value), lang) : String(value);
  });
}

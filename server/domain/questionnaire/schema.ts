// The questionnaire format. This zod schema is the single source of truth: the loader validates
// with it and questionnaires/schema.json (for editors) is generated from it by
// `npm run schema`. Descriptions here end up as editor tooltips, so they are written for authors.

import { z } from 'zod';
import { KEYWORDS } from '../expression/syntax.ts';

const reserved: ReadonlySet<string> = new Set<string>([...KEYWORDS, 'sample']);

/** Stable codes: they become variable names in exports and must survive across waves. */
export const Code = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a code starts with a letter and holds only letters, digits and _')
  .refine((s) => !reserved.has(s), { message: 'this word is reserved in conditions and cannot be a code' })
  .describe('A stable code (letters, digits, _; starting with a letter). Codes become variable names in exports: never change them between waves.');

export const Text = z
  .union([
    z.string().min(1),
    z
      .object({ nl: z.string().min(1).describe('Dutch text (required).') })
      .catchall(z.string().min(1))
      .describe('The text per language: "nl" is required, others ("en", …) optional.'),
  ])
  .describe('A text: a plain string is Dutch; an object gives the text per language. Use {Q3} or {sample.functie} to pipe an earlier answer or a sample field.')
  .meta({ id: 'Text' });

export const Condition = z
  .string()
  .min(1)
  .describe('A condition over earlier answers, derived variables and sample fields, e.g. "Q1 has any [verbaal, fysiek]". See docs/questionnaire-format.md.');

const common = {
  id: Code.describe('Stable code of this item, unique in the questionnaire.'),
  showIf: Condition.optional().describe('Show this item only when the condition holds. Answers to hidden items are dropped.'),
  help: Text.optional().describe('Help text shown under the question.'),
};

const question = {
  ...common,
  text: Text.describe('The question text.'),
  required: z.boolean().optional().describe('Must be answered before the respondent can go on (default: the questionnaire\'s "required" default, normally false).'),
  rules: z
    .array(
      z.strictObject({
        assert: Condition.describe('Must hold for the answer to be accepted; may refer to this question and earlier ones.'),
        message: Text.describe('Shown next to the question when the rule fails.'),
      }),
    )
    .optional()
    .describe('Extra validation rules checked on the server when the page is submitted.'),
};

export const Option = z.strictObject({
  code: Code,
  label: Text,
  showIf: Condition.optional().describe('Offer this option only when the condition holds.'),
  exclusive: z.boolean().optional().describe('Multiple choice: this option cannot be combined with others ("Nee, geen van bovenstaande", "Weet niet").'),
  other: z.boolean().optional().describe('"Anders, namelijk": the option has its own text field, readable as Q.code.'),
  nonSubstantive: z.boolean().optional().describe('A non-substantive answer such as "Weet niet": excluded from bases where analysis says so and from scale order.'),
  help: Text.optional(),
}).meta({ id: 'Option' });

const Member = z.strictObject({
  code: Code,
  label: Text,
  showIf: Condition.optional().describe('Show this row only when the condition holds.'),
}).meta({ id: 'Member' });

const Display = z.strictObject({
  ...common,
  type: z.literal('display').describe('Text only: an introduction or a definition.'),
  text: Text,
}).meta({ id: 'Display' });

const choiceOptions = {
  options: z.array(Option).optional().describe('The answer options in display order.'),
  optionsFrom: Code.optional().describe('Offer the options the respondent ticked at this (earlier, multiple choice) question, e.g. "main channel" from the channels ticked before.'),
};

const Single = z.strictObject({
  ...question,
  type: z.literal('single').describe('Single choice (radio buttons).'),
  ...choiceOptions,
}).meta({ id: 'Single' });

const Multi = z.strictObject({
  ...question,
  type: z.literal('multi').describe('Multiple choice (check boxes), optionally with exclusive options.'),
  ...choiceOptions,
  minSelected: z.number().int().min(1).optional().describe('At least this many options when answered.'),
  maxSelected: z.number().int().min(1).optional().describe('At most this many options.'),
}).meta({ id: 'Multi' });

const Grid = z.strictObject({
  ...question,
  type: z.literal('grid').describe('Statements (rows) on a shared scale (columns).'),
  rows: z.array(Member).min(1),
  columns: z.array(Option).min(2).describe('The shared scale; mark "Weet niet" as nonSubstantive.'),
  multiple: z.boolean().optional().describe('Check boxes per row instead of one answer per row (exclusive columns allowed).'),
}).meta({ id: 'Grid' });

const Scale = z.strictObject({
  ...question,
  type: z.literal('scale').describe('A rating scale from min to max with end labels (1-7 seriousness, 1-10 grade).'),
  min: z.number().int(),
  max: z.number().int(),
  minLabel: Text.optional().describe('Label of the lowest point, e.g. "niet ernstig".'),
  maxLabel: Text.optional().describe('Label of the highest point, e.g. "zeer ernstig".'),
  extra: z.array(Option).optional().describe('Answers beside the scale, e.g. "Weet niet" (non-substantive).'),
}).meta({ id: 'Scale' });

const Open = z.strictObject({
  ...question,
  type: z.literal('open').describe('Open text: short, long (multiline) or several boxes.'),
  multiline: z.boolean().optional().describe('A long answer (text area) instead of one line.'),
  maxLength: z.number().int().min(1).optional().describe('Maximum number of characters per box (default 2000 long, 200 short).'),
  boxes: z.array(Member.omit({ showIf: true })).min(2).optional().describe('Several boxes, e.g. three keywords.'),
}).meta({ id: 'Open' });

const NumberQ = z.strictObject({
  ...question,
  type: z.literal('number').describe('A number with optional bounds.'),
  min: z.number().optional(),
  max: z.number().optional(),
  decimals: z.boolean().optional().describe('Allow decimals (default: whole numbers only).'),
  unit: Text.optional().describe('Shown after the field, e.g. "keer".'),
}).meta({ id: 'Number' });

const Split = z.strictObject({
  ...question,
  type: z.literal('split').describe('A number split into parts, e.g. offline and online incidents; add rules to tie the total to another answer.'),
  parts: z.array(Member.omit({ showIf: true })).min(2),
  min: z.number().optional().describe('Minimum per part (default 0).'),
  max: z.number().optional().describe('Maximum per part.'),
  decimals: z.boolean().optional(),
}).meta({ id: 'Split' });

const Ranking = z.strictObject({
  ...question,
  type: z.literal('ranking').describe('Put the most important options in order (top N).'),
  options: z.array(Option).min(2),
  pick: z.number().int().min(1).describe('How many places to fill (3 for a top 3).'),
}).meta({ id: 'Ranking' });

const DateQ = z.strictObject({
  ...question,
  type: z.literal('date').describe('A calendar date.'),
  min: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().describe('Earliest date, YYYY-MM-DD.'),
  max: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().describe('Latest date, YYYY-MM-DD.'),
}).meta({ id: 'Date' });

export const Item = z.discriminatedUnion('type', [Display, Single, Multi, Grid, Scale, Open, NumberQ, Split, Ranking, DateQ]);

export const Block = z.strictObject({
  id: Code.describe('Stable code of this block (one block is one page).'),
  title: Text.optional().describe('Page heading.'),
  showIf: Condition.optional().describe('Show the whole page only when the condition holds.'),
  items: z.array(Item).min(1),
}).meta({ id: 'Block' });

const SampleField = z.strictObject({
  id: Code.describe('The column of the sample frame, e.g. functie.'),
  label: Text,
  options: z
    .array(Member.omit({ showIf: true }))
    .optional()
    .describe('The values the field can take (codes as in the sample frame). Without options the field is free text, usable only for piping.'),
});

const Derived = z.union([
  z.strictObject({
    id: Code,
    label: Text,
    expr: Condition.describe('True/false or a number, e.g. "any Q5 > nooit".'),
  }),
  z.strictObject({
    id: Code,
    label: Text,
    cases: z
      .array(z.strictObject({ when: Condition, value: Code, label: Text }))
      .min(1)
      .describe('The first case whose "when" holds gives the value; none gives no value.'),
  }),
]);

export const QuestionnaireSchema = z.strictObject({
  $schema: z.string().optional(),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower case letters, digits and -').describe('Stable identifier, e.g. owb-2024.'),
  version: z.string().min(1).describe('Version of this questionnaire; a fielded version is frozen and changes make a new one.'),
  title: Text,
  languages: z.array(z.string().regex(/^[a-z]{2}$/)).optional().describe('Languages the texts are offered in; nl first (default ["nl"]).'),
  required: z.boolean().optional().describe('Default for "required" on every question (default false).'),
  sample: z.array(SampleField).optional().describe('Fields from the sample frame that conditions and texts may use as sample.<id>.'),
  derived: z.array(Derived).optional().describe('Variables computed from answers, usable in conditions and exported.'),
  counting: z
    .strictObject({
      reached: Code.describe('A respondent counts as a response once the page holding this item, or a later one, is reached.'),
    })
    .describe('The counting rule.'),
  blocks: z.array(Block).min(1),
  end: z.strictObject({ text: Text.describe('Shown after the last page.') }),
});

export type TextValue = z.infer<typeof Text>;
export type OptionDef = z.infer<typeof Option>;
export type ItemDef = z.infer<typeof Item>;
export type BlockDef = z.infer<typeof Block>;
export type DerivedDef = z.infer<typeof Derived>;
export type SampleFieldDef = z.infer<typeof SampleField>;
export type QuestionnaireDef = z.infer<typeof QuestionnaireSchema>;
export type QuestionDef = Exclude<ItemDef, { type: 'display' }>;

/** The JSON Schema for editors, generated from the zod schema. */
export function questionnaireJsonSchema(): object {
  const schema = z.toJSONSchema(QuestionnaireSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://github.com/enquete/enquete/questionnaires/schema.json',
    title: 'Questionnaire',
    description: 'A questionnaire for the survey platform. Generated from server/domain/questionnaire/schema.ts by `npm run schema`; do not edit.',
  };
}

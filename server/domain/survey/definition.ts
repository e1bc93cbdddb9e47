// The survey definition: one questionnaire version + a sample frame's strata + a calendar +
// mail settings. Written by the fieldwork manager as JSON (docs/fieldwork.md) and
// validated here; problems are reported with their JSON path, like questionnaire problems.

import { z } from 'zod';
import { zodProblems, type Questionnaire } from '../questionnaire/index.ts';
import { Code } from '../questionnaire/schema.ts';
import type { Problem } from '../questionnaire/problems.ts';
import { isMailbox } from './addresses.ts';
import { CalendarSchema, planCalendar, type Plan } from './calendar.ts';

const FieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a column name starts with a letter and holds only letters, digits and _');
/** Columns of the sample frame with a fixed meaning (contact data, not strata). */
export const CONTACT_COLUMNS = ['email', 'name', 'salutation', 'organisation', 'phone'] as const;

export const SurveyDefinitionSchema = z.strictObject({
  $schema: z.string().optional(),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and -').describe('Stable identifier of the survey, e.g. owb-2024.'),
  title: z.string().min(1).describe('The name respondents see in mails, e.g. "Ondersteuningsteam Weerbaar Bestuur 2024".'),
  questionnaire: z.string().min(1).describe('Path of the questionnaire JSON, relative to this file.'),
  sample: z
    .strictObject({
      strata: z.array(FieldName).default([]).describe('Sample frame columns that are strata for reporting (response per stratum).'),
      carry: z.array(FieldName).default([]).describe('Coarse columns copied onto every (anonymous) response; never one that identifies a person.'),
      extra: z
        .array(FieldName)
        .default([])
        .describe('More frame columns, kept with the invitees for fieldwork analysis alone, e.g. "adrestype" (personal or general address) for response by address type (survey status --by functie,adrestype): neither strata nor carried onto responses, and gone at purge.'),
      population: z
        .record(FieldName, z.record(z.string(), z.number().int().positive()))
        .optional()
        .describe('Population size per value of a stratum, e.g. {"functie": {"burgemeester": 342}}; default: the number invited.'),
    })
    .default({ strata: [], carry: [], extra: [] }),
  weighting: z
    .strictObject({
      cells: z
        .array(
          z.strictObject({
            where: z.record(FieldName, z.union([z.string(), z.array(z.string()).min(1)])).optional().describe('Only responses with these values (a value or a list) fall under this rule.'),
            by: z.array(FieldName).min(1).describe('The carried columns whose values make the cell, e.g. ["bestuurslaag", "functie"].'),
          }),
        )
        .min(1)
        .describe('Rules for the weighting cell of a response; the first rule that matches decides. E.g. functie within gemeenten, bestuurslaag otherwise.'),
      target: z
        .enum(['population', 'invited'])
        .describe('What the weights aim at: the explicit population table below, or the number invited per cell (what the Monitor 2024 weights behave as).'),
      population: z
        .array(z.strictObject({ cell: z.record(FieldName, z.string()), size: z.number().int().positive() }))
        .optional()
        .describe('Population size per cell, e.g. {"cell": {"bestuurslaag": "gemeente", "functie": "burgemeester"}, "size": 342}.'),
    })
    .optional()
    .describe('Post-stratification: weight = population share / response share per cell, from counts. Leave out for unweighted results.'),
  reporting: z
    .strictObject({
      minCell: z.number().int().min(1).default(5).describe('Counts below this (k) are suppressed on dashboards and in toplines, and small strata show no response dates.'),
    })
    .default({ minCell: 5 }),
  nonResponse: z
    .strictObject({
      questions: z
        .array(
          z.strictObject({
            id: Code.describe('Stable code of the question: the column in the non-response export.'),
            text: z.string().min(1).describe('The question as the interviewer reads it out.'),
            options: z
              .array(z.strictObject({ code: Code, label: z.string().min(1) }))
              .min(2)
              .describe('The answers the interviewer records, e.g. {"code": "ja_meerdere", "label": "Ja, meerdere keren"}.'),
          }),
        )
        .min(1),
    })
    .optional()
    .describe(
      'A short telephone non-response survey (the Monitor 2020 asked those who would not take part one question): questions an interviewer asks on the phone and records with survey nonresponse. Stored apart from the responses and, like them, not linked to anyone.',
    ),
  calendar: CalendarSchema,
  mail: z.strictObject({
    from: z.string().min(3).describe('Sender, e.g. "Onderzoeksbureau <onderzoek@bureau.nl>".'),
    replyTo: z.string().min(3).optional(),
    organisation: z.string().min(1).describe('Who runs the study, named in the mails (e.g. "Onderzoeksbureau X, in opdracht van het ministerie van BZK").'),
  }),
  sending: z
    .strictObject({
      ratePerMinute: z.number().int().min(1).default(600).describe('At most this many mails a minute.'),
      maxAttempts: z.number().int().min(1).default(12).describe('A mail that meets temporary failures is tried this many times, with growing pauses (1, 2, 4, … minutes, at most 6 hours: 12 attempts span about 20 hours).'),
    })
    .default({ ratePerMinute: 600, maxAttempts: 12 }),
});
export type SurveyDefinition = z.output<typeof SurveyDefinitionSchema>;

/** The sample frame columns a survey accepts, beside the contact columns. */
export function sampleColumns(def: SurveyDefinition, q: Questionnaire): string[] {
  return [...new Set([...q.sample.keys(), ...def.sample.strata, ...def.sample.carry, ...def.sample.extra])];
}

/** What an anonymous record (a response, a non-response interview) carries of a sample: the `carry` columns alone. */
export function carriedStrata(def: SurveyDefinition, sample: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(def.sample.carry.filter((f) => sample[f] !== undefined).map((f) => [f, sample[f]!]));
}

/**
 * Validates a parsed definition against its questionnaire. `templateExists` tells whether an
 * email template is available (the caller knows where templates live).
 */
export function checkSurveyDefinition(
  input: unknown,
  questionnaire: (path: string) => { ok: true; questionnaire: Questionnaire } | { ok: false; problems: Problem[] },
  templateExists: (name: string) => boolean,
): { ok: true; definition: SurveyDefinition; questionnaire: Questionnaire; plan: Plan } | { ok: false; problems: Problem[] } {
  const parsed = SurveyDefinitionSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
  const def = parsed.data;
  const problems: Problem[] = [];
  const loaded = questionnaire(def.questionnaire);
  if (!loaded.ok) {
    return { ok: false, problems: loaded.problems.map((p) => ({ ...p, message: `in questionnaire ${def.questionnaire}: ${p.message}`, path: ['questionnaire'] })) };
  }
  const q = loaded.questionnaire;
  const columns = sampleColumns(def, q);
  def.sample.carry.forEach((field, i) => {
    if (!q.sample.has(field) && !def.sample.strata.includes(field)) {
      problems.push({ path: ['sample', 'carry', i], message: `"${field}" is neither a sample field of the questionnaire nor a stratum` });
    }
  });
  for (const [field, sizes] of Object.entries(def.sample.population ?? {})) {
    if (!def.sample.strata.includes(field)) problems.push({ path: ['sample', 'population', field], message: `"${field}" is not one of the strata (${def.sample.strata.join(', ') || 'none'})` });
    const options = q.sample.get(field)?.options.map((o) => o.code);
    for (const value of Object.keys(sizes)) {
      if (options && options.length > 0 && !options.includes(value)) problems.push({ path: ['sample', 'population', field, value], message: `"${value}" is not a value of ${field} (${options.join(', ')})` });
    }
  }
  problems.push(...weightingProblems(def), ...nonResponseProblems(def));
  for (const column of columns) {
    if ((CONTACT_COLUMNS as readonly string[]).includes(column)) problems.push({ path: ['sample'], message: `"${column}" is contact data and cannot be a stratum or sample field` });
  }
  for (const key of ['from', 'replyTo'] as const) {
    const value = def.mail[key];
    if (value !== undefined && !isMailbox(value)) problems.push({ path: ['mail', key], message: `"${value}" is not an address such as "Naam <adres@domein.nl>"` });
  }
  const planned = planCalendar(def.calendar);
  if (!planned.ok) problems.push(...planned.problems);
  def.calendar.mailings.forEach((m, i) => {
    for (const [field, values] of Object.entries(m.only ?? {})) {
      const path = ['calendar', 'mailings', i, 'only', field];
      if (!columns.includes(field)) {
        problems.push({ path, message: `"${field}" is not a sample field (${columns.join(', ') || 'none'})` });
        continue;
      }
      const options = q.sample.get(field)?.options.map((o) => o.code);
      values.forEach((value, j) => {
        if (options && options.length > 0 && !options.includes(value)) problems.push({ path: [...path, j], message: `"${value}" is not a value of ${field} (${options.join(', ')})` });
      });
    }
    const template = m.template ?? m.id;
    if (!templateExists(template)) problems.push({ path: ['calendar', 'mailings', i, m.template ? 'template' : 'id'], message: `there is no email template "${template}" (templates/email/${template}.html.hbs and .txt.hbs)` });
  });
  if (problems.length > 0 || !planned.ok) return { ok: false, problems };
  return { ok: true, definition: def, questionnaire: q, plan: planned.plan };
}

function nonResponseProblems(def: SurveyDefinition): Problem[] {
  const problems: Problem[] = [];
  const ids = new Set<string>();
  def.nonResponse?.questions.forEach((question, i) => {
    if (ids.has(question.id)) problems.push({ path: ['nonResponse', 'questions', i, 'id'], message: `"${question.id}" is already the id of an earlier question` });
    ids.add(question.id);
    const codes = new Set<string>();
    question.options.forEach((option, j) => {
      if (codes.has(option.code)) problems.push({ path: ['nonResponse', 'questions', i, 'options', j, 'code'], message: `"${option.code}" is already the code of an earlier option of ${question.id}` });
      codes.add(option.code);
    });
  });
  return problems;
}

function weightingProblems(def: SurveyDefinition): Problem[] {
  const w = def.weighting;
  if (!w) return [];
  const problems: Problem[] = [];
  w.cells.forEach((rule, i) => {
    for (const [j, field] of rule.by.entries()) {
      // Responses are weighted by what they carry; a cell column they lack cannot be weighted.
      if (!def.sample.carry.includes(field)) problems.push({ path: ['weighting', 'cells', i, 'by', j], message: `"${field}" is not carried onto responses (sample.carry: ${def.sample.carry.join(', ') || 'none'})` });
    }
    for (const field of Object.keys(rule.where ?? {})) {
      if (!def.sample.carry.includes(field)) problems.push({ path: ['weighting', 'cells', i, 'where', field], message: `"${field}" is not carried onto responses (sample.carry: ${def.sample.carry.join(', ') || 'none'})` });
    }
  });
  if (w.target === 'population' && !w.population) problems.push({ path: ['weighting', 'population'], message: 'target "population" needs the population table (or choose target "invited")' });
  if (w.target === 'invited' && w.population) problems.push({ path: ['weighting', 'population'], message: 'a population table is only used with target "population"' });
  const shapes = w.cells.map((r) => [...r.by].sort().join(','));
  (w.population ?? []).forEach((entry, i) => {
    if (!shapes.includes(Object.keys(entry.cell).sort().join(','))) {
      problems.push({ path: ['weighting', 'population', i, 'cell'], message: `this cell has the columns ${Object.keys(entry.cell).join(', ') || 'none'}; the rules make cells of ${[...new Set(w.cells.map((r) => r.by.join(', ')))].join(' or ')}` });
    }
  });
  return problems;
}

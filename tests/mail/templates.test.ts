// The checks `survey create` runs on a survey's mail templates, so that a broken template is
// found before anyone is invited, not while thousands of mails go out.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { planCalendar } from '../../server/domain/survey/calendar.ts';
import { SurveyDefinitionSchema } from '../../server/domain/survey/definition.ts';
import { previewArgs } from '../../server/mail/preview.ts';
import { MailTemplates, TemplateError } from '../../server/mail/render.ts';
import { checkDefinition, TEMPLATES_DIR } from '../../server/usecases/surveys.ts';
import { questionnairesDir, testDefinition } from '../helpers/app.ts';

let templates: string;
const edit = (file: string, change: (source: string) => string) => {
  const path = join(templates, 'email', file);
  writeFileSync(path, change(readFileSync(path, 'utf8')));
};
const definition = (mailings: object[] = [{ id: 'invitation', kind: 'invitation', at: 'P0D' }]) => testDefinition('owb-2024', { calendar: { mailings } });
const problems = (def = definition()) => {
  const checked = checkDefinition(def, questionnairesDir, templates);
  return checked.ok ? [] : checked.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
};

beforeEach(() => {
  templates = join(mkdtempSync(join(tmpdir(), 'templates-')), 'templates');
  cpSync(TEMPLATES_DIR, templates, { recursive: true });
});

describe('checking mail templates at survey create', () => {
  it('accepts the shipped templates, for every mailing of the Monitor calendar', () => {
    const mailings = [
      { id: 'invitation', kind: 'invitation', at: 'P0D' },
      { id: 'reminder1', kind: 'reminder', at: 'P10D' },
      { id: 'reminder2', kind: 'reminder', at: 'P21D', subject: 'Laatste herinnering: {{surveyTitle}}' },
    ];
    expect(problems(definition(mailings))).toEqual([]);
  });

  it('names a misspelt merge field with its file, line and column, rather than sending a blank', () => {
    edit('invitation.txt.hbs', (s) => s.replace('{{salutation}}', '{{salutaion}}'));
    expect(problems()).toEqual([
      expect.stringMatching(/^calendar\.mailings\.0\.id: templates\/email\/invitation\.txt\.hbs: unknown merge field "salutaion" \(line 1, column 3\); a typo would print nothing\. The merge fields are: salutation, name, /),
    ]);
  });

  it('names the partial a mistake is in, once, even though every template includes it', () => {
    edit('_footer.html.hbs', (s) => s.replace('{{closeDate}}', '{{sluitdatum}}'));
    const found = problems();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^calendar\.mailings\.0\.id: templates\/email\/_footer\.html\.hbs: unknown merge field "sluitdatum" \(line 1/);
  });

  it('reports a syntax error on one line, with where Handlebars found it', () => {
    edit('invitation.html.hbs', (s) => s.replace('{{/if}}', '{{/iff}}'));
    expect(problems()).toEqual([expect.stringMatching(/^calendar\.mailings\.0\.id: templates\/email\/invitation\.html\.hbs: if doesn't match iff - 2:\d+$/)]);
    edit('invitation.html.hbs', (s) => s.replace('{{/iff}}', '{{/if}}').replace('{{> button}}', '{{> knop}}'));
    expect(problems()).toEqual(['calendar.mailings.0.id: templates/email/invitation.html.hbs: The partial knop could not be found']);
  });

  it('requires the link to the questionnaire and the opt-out link in both the HTML and the plain text', () => {
    edit('invitation.txt.hbs', (s) => s.replace('{{link}}', '(de link staat in de HTML-versie)'));
    edit('_footer.html.hbs', (s) => s.replace('{{optOutLink}}', 'https://enquete.example/'));
    expect(problems()).toEqual([
      'calendar.mailings.0.id: templates/email/invitation.html.hbs: the mail has no opt-out link ({{optOutLink}}); every mail must carry it',
      'calendar.mailings.0.id: templates/email/invitation.txt.hbs: the mail has no link to the questionnaire ({{link}}); every mail must carry it',
    ]);
  });

  it('checks the subject, under the mailing that sets it', () => {
    const mailings = [
      { id: 'invitation', kind: 'invitation', at: 'P0D', template: 'invitation', subject: 'Uitnodiging {{titel}}' },
      { id: 'reminder1', kind: 'reminder', at: 'P10D', subject: 'Herinnering {{surveyTitle' },
    ];
    expect(problems(definition(mailings))).toEqual([
      expect.stringMatching(/^calendar\.mailings\.0\.subject: subject "Uitnodiging \{\{titel\}\}": unknown merge field "titel"/),
      expect.stringMatching(/^calendar\.mailings\.1\.subject: subject "Herinnering \{\{surveyTitle": Parse error on line 1: .*Expecting/),
    ]);
  });
});

describe('rendering a broken template at the moment of sending', () => {
  it('fails with the file and the reason, not with a bare Handlebars error', () => {
    const def = SurveyDefinitionSchema.parse(definition());
    const planned = planCalendar(def.calendar);
    if (!planned.ok) throw new Error('plan');
    // The templates were fine at create, and edited since.
    edit('invitation.html.hbs', (s) => s.replace('{{/if}}', ''));
    const render = () => new MailTemplates(templates).render({ ...previewArgs(def, planned.plan, planned.plan.mailings[0]!), messageId: '<x@y>' });
    expect(render).toThrow(TemplateError);
    expect(render).toThrow(/^templates\/email\/invitation\.html\.hbs: Parse error on line \d+: .*Expecting/);
  });
});

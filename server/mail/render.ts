// Rendering a mailing for one invitee from the Handlebars templates in templates/email/:
// <name>.html.hbs and <name>.txt.hbs, with the shared partials _button, _footer and _layout.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { formatCode } from '../domain/codes.ts';
import { closeDateText } from '../domain/survey/dates.ts';
import type { PlannedMailing } from '../domain/survey/calendar.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import type { InviteeRow } from '../db/invitees.ts';
import { hasControlCharacter } from '../domain/text.ts';

export interface RenderedMail {
  from: string;
  replyTo?: string;
  to: { name: string; address: string };
  subject: string;
  html: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
}

export class HeaderInjectionError extends Error {}

/** A template that cannot be rendered (a syntax error, a partial or helper that does not exist). */
export class TemplateError extends Error {}

/** Newlines and control characters in anything that reaches a header would let it add headers. */
export function assertHeaderSafe(value: string, field: string): string {
  if (hasControlCharacter(value)) throw new HeaderInjectionError(`${field} contains a newline or control character`);
  return value;
}

const DEFAULT_SUBJECTS: Record<PlannedMailing['kind'], string> = {
  invitation: 'Uitnodiging: {{surveyTitle}}',
  reminder: 'Herinnering: {{surveyTitle}}',
};


export function salutationOf(invitee: Pick<InviteeRow, 'salutation' | 'name'>): string {
  if (invitee.salutation) return invitee.salutation;
  return invitee.name ? `Geachte ${invitee.name}` : 'Geachte heer, mevrouw';
}

/** The merge fields of a mail (docs/fieldwork.md); a template may use these and nothing else. */
export interface MergeFields {
  surveyTitle: string;
  organisation: string;
  salutation: string;
  name: string;
  inviteeOrganisation: string;
  link: string;
  startUrl: string;
  code: string;
  closeDate: string;
  optOutLink: string;
}

export interface RenderArgs {
  definition: SurveyDefinition;
  mailing: Pick<PlannedMailing, 'kind' | 'template' | 'subject'>;
  invitee: Pick<InviteeRow, 'name' | 'salutation' | 'organisation' | 'email'>;
  code: string;
  token: string;
  publicUrl: string;
  closesAt: Date;
  messageId: string;
}

/** A problem of a mailing's templates, found before any mail goes out. */
export interface TemplateProblem {
  /** The template files, or the mailing's subject. */
  part: 'template' | 'subject';
  message: string;
}

/** Handlebars' message, on one line: "Parse error on line 3: … Expecting 'ID', got 'EOF'". */
function describeError(e: unknown): string {
  const message = (e as Error).message ?? String(e);
  const unknown = /^"(.+)" not defined in .* - (\d+):(\d+)$/.exec(message);
  if (unknown) return `unknown merge field "${unknown[1]}" (line ${unknown[2]}, column ${Number(unknown[3]) + 1}); a typo would print nothing. The merge fields are: ${MERGE_FIELD_NAMES.join(', ')}`;
  const lines = message.split('\n');
  return lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : message;
}

const MERGE_FIELD_NAMES: (keyof MergeFields)[] = ['salutation', 'name', 'inviteeOrganisation', 'organisation', 'surveyTitle', 'link', 'startUrl', 'code', 'closeDate', 'optOutLink'];

/** An error of a template file, tagged with the file (the innermost one, for a partial). */
class InFile extends Error {
  constructor(file: string, cause: unknown) {
    super(`${file}: ${describeError(cause)}`, { cause });
  }
}

export class MailTemplates {
  private readonly html = Handlebars.create();
  private readonly text = Handlebars.create();
  private readonly compiled = new Map<string, { html: Handlebars.TemplateDelegate; text: Handlebars.TemplateDelegate }>();
  private readonly subjects = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layout: Handlebars.TemplateDelegate;
  /** The partials' sources by part: [name, source]. */
  private readonly partials: Record<'html' | 'txt', [string, string][]> = { html: [], txt: [] };

  constructor(private readonly dir: string) {
    const emailDir = join(dir, 'email');
    for (const file of readdirSync(emailDir).filter((f) => f.startsWith('_') && !f.startsWith('_layout'))) {
      const [name, kind] = file.slice(1).split('.') as [string, string];
      const source = readFileSync(join(emailDir, file), 'utf8');
      (kind === 'html' ? this.html : this.text).registerPartial(name, source);
      this.partials[kind === 'html' ? 'html' : 'txt'].push([name, source]);
    }
    this.layout = this.html.compile(readFileSync(join(emailDir, '_layout.html.hbs'), 'utf8'));
  }

  private template(name: string) {
    let t = this.compiled.get(name);
    if (!t) {
      const read = (ext: string) => readFileSync(join(this.dir, 'email', `${name}.${ext}.hbs`), 'utf8');
      // Plain text is not HTML: nothing to escape there.
      t = { html: this.html.compile(read('html')), text: this.text.compile(read('txt'), { noEscape: true }) };
      this.compiled.set(name, t);
    }
    return t;
  }

  private subjectTemplate(source: string): Handlebars.TemplateDelegate {
    let t = this.subjects.get(source);
    if (!t) {
      t = this.text.compile(source, { noEscape: true });
      this.subjects.set(source, t);
    }
    return t;
  }

  fields(args: Omit<RenderArgs, 'messageId' | 'mailing'>): MergeFields {
    const { definition, invitee } = args;
    return {
      surveyTitle: definition.title,
      organisation: definition.mail.organisation,
      salutation: salutationOf(invitee),
      name: invitee.name ?? '',
      inviteeOrganisation: invitee.organisation ?? '',
      link: `${args.publicUrl}/s/${args.token}`,
      startUrl: `${args.publicUrl}/`,
      code: formatCode(args.code),
      closeDate: closeDateText(args.closesAt, definition.calendar.timezone),
      optOutLink: `${args.publicUrl}/optout/${args.token}`,
    };
  }

  render(args: RenderArgs): RenderedMail {
    const { definition, mailing, invitee } = args;
    const fields = this.fields(args);
    const name = mailing.template;
    // Handlebars compiles on first use: a template with an error fails here, naming its file.
    const part = <T>(file: string, run: () => T): T => {
      try {
        return run();
      } catch (e) {
        throw new TemplateError(`${file}: ${describeError(e)}`, { cause: e });
      }
    };
    const subject = part(`the subject of mailing ${JSON.stringify(mailing.subject ?? DEFAULT_SUBJECTS[mailing.kind])}`, () => this.subjectTemplate(mailing.subject ?? DEFAULT_SUBJECTS[mailing.kind])(fields));
    const t = part(`templates/email/${name}.html.hbs and .txt.hbs`, () => this.template(name));
    const content = part(`templates/email/${name}.html.hbs`, () => t.html(fields));
    const mail: RenderedMail = {
      from: assertHeaderSafe(definition.mail.from, 'mail.from'),
      to: { name: assertHeaderSafe(invitee.name ?? '', 'name'), address: assertHeaderSafe(invitee.email, 'email') },
      subject: assertHeaderSafe(subject, 'subject'),
      html: part('templates/email/_layout.html.hbs', () => this.layout({ ...fields, subject, content })),
      text: part(`templates/email/${name}.txt.hbs`, () => t.text(fields)),
      messageId: args.messageId,
      headers: {
        'List-Unsubscribe': `<${assertHeaderSafe(fields.optOutLink, 'opt-out link')}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    };
    if (definition.mail.replyTo) mail.replyTo = assertHeaderSafe(definition.mail.replyTo, 'mail.replyTo');
    return mail;
  }

  /**
   * What is wrong with a mailing's templates, before any mail goes out: a file or subject that
   * does not compile, a partial or helper that does not exist, a merge field that does not exist
   * (Handlebars would print nothing for a typo), or a mail without the link to the questionnaire
   * or without the opt-out link, in either part. Checked with the fields of `args`.
   */
  check(args: Omit<RenderArgs, 'messageId'>): TemplateProblem[] {
    const problems: TemplateProblem[] = [];
    const fields = this.fields(args);
    const name = args.mailing.template;
    const subjectSource = args.mailing.subject ?? DEFAULT_SUBJECTS[args.mailing.kind];
    // Strict: a name that is not a merge field is an error rather than an empty string.
    const strict = (part: 'html' | 'txt') => {
      const env = Handlebars.create();
      const options = { strict: true, noEscape: part === 'txt' };
      for (const [partial, source] of this.partials[part]) {
        const file = `templates/email/_${partial}.${part}.hbs`;
        const compiled = env.compile(source, options);
        env.registerPartial(partial, ((context: unknown, o: Handlebars.RuntimeOptions) => {
          try {
            return compiled(context, o);
          } catch (e) {
            throw e instanceof InFile ? e : new InFile(file, e);
          }
        }) as unknown as Handlebars.Template);
      }
      return (file: string, source: string, context: object): string | undefined => {
        try {
          return env.compile(source, options)(context);
        } catch (e) {
          const problem = e instanceof InFile ? e : new InFile(file, e);
          if (!problems.some((p) => p.message === problem.message)) problems.push({ part: 'template', message: problem.message });
          return undefined;
        }
      };
    };
    try {
      const subject = Handlebars.create().compile(subjectSource, { strict: true, noEscape: true })(fields);
      if (subject.trim() === '') problems.push({ part: 'subject', message: 'the subject is empty' });
    } catch (e) {
      problems.push({ part: 'subject', message: `subject ${JSON.stringify(subjectSource)}: ${describeError(e)}` });
    }
    const html = strict('html');
    const text = strict('txt');
    const read = (file: string): string | undefined => {
      try {
        return readFileSync(join(this.dir, 'email', file), 'utf8');
      } catch {
        problems.push({ part: 'template', message: `templates/email/${file}: cannot read the file` });
        return undefined;
      }
    };
    const htmlSource = read(`${name}.html.hbs`);
    const textSource = read(`${name}.txt.hbs`);
    const layoutSource = read('_layout.html.hbs');
    if (htmlSource !== undefined) {
      const content = html(`templates/email/${name}.html.hbs`, htmlSource, fields);
      if (content !== undefined && layoutSource !== undefined) html('templates/email/_layout.html.hbs', layoutSource, { ...fields, subject: 'x', content });
    }
    if (textSource !== undefined) text(`templates/email/${name}.txt.hbs`, textSource, fields);
    // Every mail must open the questionnaire and let the invitee say no, in either part: some
    // mail programs show only the plain text, others only the HTML. Checked on the mail as it
    // is sent (where a misspelt field is empty), so both kinds of problem are reported at once.
    let mail: RenderedMail;
    try {
      mail = this.render({ ...args, messageId: '<check@enquete.example>' });
    } catch {
      return problems;
    }
    const required: [keyof MergeFields, string][] = [
      ['link', 'link to the questionnaire'],
      ['optOutLink', 'opt-out link'],
    ];
    for (const [file, body, escape] of [
      [`templates/email/${name}.html.hbs`, mail.html, true],
      [`templates/email/${name}.txt.hbs`, mail.text, false],
    ] as const) {
      for (const [field, what] of required) {
        const value = escape ? Handlebars.escapeExpression(fields[field]) : fields[field];
        if (!body.includes(value)) problems.push({ part: 'template', message: `${file}: the mail has no ${what} ({{${field}}}); every mail must carry it` });
      }
    }
    return problems;
  }
}

// Rendering a mailing for one invitee from the Handlebars templates in templates/email/:
// <name>.html.hbs and <name>.txt.hbs, with the shared partials _button, _footer and _layout.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { formatCode } from '../domain/codes.ts';
import type { PlannedMailing } from '../domain/survey/calendar.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import type { InviteeRow } from '../db/invitees.ts';

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

/** Newlines and control characters in anything that reaches a header would let it add headers. */
export function assertHeaderSafe(value: string, field: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new HeaderInjectionError(`${field} contains a newline or control character`);
  return value;
}

const DEFAULT_SUBJECTS: Record<PlannedMailing['kind'], string> = {
  invitation: 'Uitnodiging: {{surveyTitle}}',
  reminder: 'Herinnering: {{surveyTitle}}',
};

const closeDates = new Map<string, string>();

/** "dinsdag 9 juli 2024": the last day on which the questionnaire can be filled in. */
export function closeDateText(closesAt: Date, timeZone: string): string {
  const key = `${closesAt.toISOString()} ${timeZone}`;
  const known = closeDates.get(key);
  if (known) return known;
  const local = (d: Date, o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('nl-NL', { timeZone, ...o }).format(d);
  const midnight = local(closesAt, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }) === '00:00';
  const lastDay = midnight ? new Date(closesAt.getTime() - 1) : closesAt;
  const date = local(lastDay, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const text = midnight ? date : `${date} om ${local(closesAt, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })}`;
  closeDates.set(key, text);
  return text;
}

export function salutationOf(invitee: Pick<InviteeRow, 'salutation' | 'name'>): string {
  if (invitee.salutation) return invitee.salutation;
  return invitee.name ? `Geachte ${invitee.name}` : 'Geachte heer, mevrouw';
}

export class MailTemplates {
  private readonly html = Handlebars.create();
  private readonly text = Handlebars.create();
  private readonly compiled = new Map<string, { html: Handlebars.TemplateDelegate; text: Handlebars.TemplateDelegate }>();
  private readonly subjects = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layout: Handlebars.TemplateDelegate;

  constructor(private readonly dir: string) {
    const emailDir = join(dir, 'email');
    for (const file of readdirSync(emailDir).filter((f) => f.startsWith('_') && !f.startsWith('_layout'))) {
      const [name, kind] = file.slice(1).split('.') as [string, string];
      (kind === 'html' ? this.html : this.text).registerPartial(name, readFileSync(join(emailDir, file), 'utf8'));
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

  render(args: {
    definition: SurveyDefinition;
    mailing: PlannedMailing;
    invitee: InviteeRow;
    code: string;
    token: string;
    publicUrl: string;
    closesAt: Date;
    messageId: string;
  }): RenderedMail {
    const { definition, mailing, invitee } = args;
    const fields = {
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
    const subjectSource = mailing.subject ?? DEFAULT_SUBJECTS[mailing.kind];
    let subjectTemplate = this.subjects.get(subjectSource);
    if (!subjectTemplate) {
      subjectTemplate = this.text.compile(subjectSource, { noEscape: true });
      this.subjects.set(subjectSource, subjectTemplate);
    }
    const subject = subjectTemplate(fields);
    const t = this.template(mailing.template);
    const mail: RenderedMail = {
      from: assertHeaderSafe(definition.mail.from, 'mail.from'),
      to: { name: assertHeaderSafe(invitee.name ?? '', 'name'), address: assertHeaderSafe(invitee.email, 'email') },
      subject: assertHeaderSafe(subject, 'subject'),
      html: this.layout({ ...fields, subject, content: t.html(fields) }),
      text: t.text(fields),
      messageId: args.messageId,
      headers: {
        'List-Unsubscribe': `<${assertHeaderSafe(fields.optOutLink, 'opt-out link')}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    };
    if (definition.mail.replyTo) mail.replyTo = assertHeaderSafe(definition.mail.replyTo, 'mail.replyTo');
    return mail;
  }
}

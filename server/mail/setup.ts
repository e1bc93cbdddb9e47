import type { AppConfig } from '../config.ts';
import { TEMPLATES_DIR } from '../usecases/surveys.ts';
import { MailTemplates } from './render.ts';
import { fileTransport, smtpTransport, type MailTransport } from './transport.ts';

/** The transport and templates for a configuration: SMTP when SMTP_URL is set, else .eml files. */
export function createMailer(mail: NonNullable<AppConfig['mail']>): { transport: MailTransport; templates: MailTemplates } {
  return {
    transport: mail.smtpUrl ? smtpTransport(mail.smtpUrl) : fileTransport(mail.dir),
    templates: new MailTemplates(TEMPLATES_DIR),
  };
}

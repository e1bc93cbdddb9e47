import type { AppConfig } from '../config.ts';
import { TEMPLATES_DIR } from '../usecases/surveys.ts';
import { signingTransport } from './dkim.ts';
import { MailTemplates } from './render.ts';
import { fileTransport, smtpTransport, type MailTransport } from './transport.ts';

/**
 * The transport and templates for a configuration: SMTP when SMTP_URL is set, else .eml files;
 * DKIM-signed when a key is configured (a bad key is refused here, at start).
 */
export function createMailer(mail: NonNullable<AppConfig['mail']>): { transport: MailTransport; templates: MailTemplates } {
  const transport = mail.smtpUrl ? smtpTransport(mail.smtpUrl, mail.smtpCa ? { ca: mail.smtpCa } : {}) : fileTransport(mail.dir);
  return {
    transport: mail.dkim ? signingTransport(transport, mail.dkim) : transport,
    templates: new MailTemplates(TEMPLATES_DIR),
  };
}

// Where mail goes: an SMTP server (SMTP_URL, through nodemailer), or, on the embedded default,
// .eml files in a folder, so the demo shows exactly what would have been sent.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { RenderedMail } from './render.ts';

export interface MailTransport {
  send(mail: RenderedMail): Promise<void>;
  close(): void;
  /** For logs and the CLI: where mail goes. */
  readonly description: string;
}

/** A failure the receiving server will not change its mind about (5xx): the address bounced. */
export function isPermanentFailure(error: unknown): boolean {
  const code = (error as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

function message(mail: RenderedMail): SendMailOptions {
  return {
    from: mail.from,
    to: mail.to.name ? mail.to : mail.to.address,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: mail.messageId,
    headers: mail.headers,
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    description: `SMTP ${new URL(url).host}`,
    async send(mail) {
      await transporter.sendMail(message(mail));
    },
    close: () => transporter.close(),
  };
}

export function fileTransport(dir: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    description: `.eml files in ${dir}`,
    async send(mail) {
      const info = await transporter.sendMail(message(mail));
      mkdirSync(dir, { recursive: true });
      const name = mail.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9@._-]/g, '_');
      writeFileSync(join(dir, `${name}.eml`), info.message as Buffer);
    },
    close: () => transporter.close(),
  };
}

// Composing the RFC 5322 / MIME message of a mailing: multipart/alternative with a plain text
// and an HTML part, both UTF-8 in base64. Written here rather than with nodemailer's composer
// because mailings are thousands of mails from one template, and this costs a fraction of the
// time (see scripts/bench/fieldwork.ts); headers are validated before they get here.

import { randomBytes } from 'node:crypto';
import type { RenderedMail } from './render.ts';

/** RFC 2047 encoded-words for a header value that is not plain ASCII. */
export function encodeHeaderWords(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const ch of value) {
    // Keep each encoded-word within 75 characters: at most 45 bytes of UTF-8 before base64.
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

/** "Name" <address>, with the name quoted or encoded as needed. */
export function formatAddress(name: string, address: string): string {
  if (!name) return `<${address}>`;
  const display = /^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : encodeHeaderWords(name);
  return `${display} <${address}>`;
}

/** Splits "Name <address>" or a bare address. */
export function parseAddress(text: string): { name: string; address: string } {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(text);
  return m ? { name: m[1]!.replace(/^"(.*)"$/, '$1'), address: m[2]! } : { name: '', address: text.trim() };
}

function base64Lines(text: string): string {
  const encoded = Buffer.from(text, 'utf8').toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines.join('\r\n');
}

// Boundaries only need to be unique and absent from the (base64) content.
const boundaryPrefix = randomBytes(8).toString('hex');
let boundaryCounter = 0;

export interface ComposedMessage {
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

export function composeMessage(mail: RenderedMail, date: Date): ComposedMessage {
  const from = parseAddress(mail.from);
  const boundary = `----=_enquete_${boundaryPrefix}_${(boundaryCounter++).toString(36)}`;
  const headers = [
    `From: ${formatAddress(from.name, from.address)}`,
    `To: ${formatAddress(mail.to.name, mail.to.address)}`,
    ...(mail.replyTo ? [`Reply-To: ${(({ name, address }) => formatAddress(name, address))(parseAddress(mail.replyTo))}`] : []),
    `Subject: ${encodeHeaderWords(mail.subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${mail.messageId}`,
    ...Object.entries(mail.headers).map(([k, v]) => `${k}: ${v}`),
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const part = (type: string, body: string) => `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(body)}\r\n`;
  const raw = `${headers.join('\r\n')}\r\n\r\n${part('text/plain', mail.text)}${part('text/html', mail.html)}--${boundary}--\r\n`;
  return { envelope: { from: from.address, to: [mail.to.address] }, raw: Buffer.from(raw, 'utf8') };
}

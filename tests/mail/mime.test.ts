import { describe, expect, it } from 'vitest';
import { composeMessage, encodeBody, foldHeader } from '../../server/mail/mime.ts';
import type { RenderedMail } from '../../server/mail/render.ts';

const mail = (to: string, name = 'Jan Jansen'): RenderedMail => ({
  from: 'Onderzoek <onderzoek@bureau.test>',
  to: { name, address: to },
  subject: 'Uitnodiging',
  text: 'Beste Jan,\nregel twee\n',
  html: '<p>Beste Jan,</p>',
  messageId: '<id@bureau.test>',
  headers: {},
});

describe('composing a mail', () => {
  it('addresses an internationalised domain in its ASCII form, in the envelope and the To header', () => {
    const { envelope, raw } = composeMessage(mail('j.oztuerk@súdwest-fryslân.nl'), new Date());
    expect(envelope.to).toEqual(['j.oztuerk@xn--sdwest-frysln-teb26a.nl']);
    expect(raw.toString()).toContain('To: "Jan Jansen" <j.oztuerk@xn--sdwest-frysln-teb26a.nl>\r\n');
    expect(composeMessage(mail('a@gemeente.nl'), new Date()).envelope.to).toEqual(['a@gemeente.nl']);
  });

  it('ends every line with CRLF and keeps plain text as it is', () => {
    expect(encodeBody('een\ntwee\r\ndrie')).toEqual({ encoding: '7bit', body: 'een\r\ntwee\r\ndrie' });
    expect(encodeBody(`${'x'.repeat(998)}\n`).encoding).toBe('7bit');
    expect(encodeBody(`${'x'.repeat(999)}\n`).encoding).toBe('quoted-printable');
    expect(encodeBody('café').body).toBe('caf=C3=A9');
  });

  it('folds a long header line before white space, never leaving a line of white space alone', () => {
    const folded = foldHeader(`Subject: ${'woord '.repeat(30)}  einde`);
    expect(folded.split('\r\n').every((line) => line.length <= 78 && line.trim() !== '')).toBe(true);
    expect(folded.replace(/\r\n/g, '')).toBe(`Subject: ${'woord '.repeat(30)}  einde`);
    expect(foldHeader('Subject: kort')).toBe('Subject: kort');
  });
});

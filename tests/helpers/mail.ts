// A composed mail for the transport tests: a line with only a dot in its text (dot-stuffing).
import { composeMessage } from '../../server/mail/mime.ts';
import type { RenderedMail } from '../../server/mail/render.ts';
import type { OutgoingMail } from '../../server/mail/transport.ts';

export function outgoing(to: string): OutgoingMail {
  const rendered: RenderedMail = {
    from: 'Onderzoek <onderzoek@bureau.test>',
    to: { name: 'Jan Jansen', address: to },
    subject: 'Uitnodiging',
    text: 'Beste Jan,\n.\nregel met alleen een punt hierboven\n',
    html: '<p>Beste Jan,</p>',
    messageId: `<${to}@bureau.test>`,
    headers: {},
  };
  return { rendered, message: composeMessage(rendered, new Date()) };
}

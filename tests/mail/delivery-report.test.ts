// Reading delivery reports: real ones from Postfix 3.7 (tests/fixtures/bounces/postfix-*.eml,
// captured from two Postfix instances on loopback: a relay, and a server refusing at RCPT TO),
// a qmail-style free-text bounce and an out-of-office reply; and what each means for the invitee.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyFailure, readDeliveryReport } from '../../server/mail/delivery-report.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url));

describe('reading a delivery report', () => {
  it('reads a Postfix non-delivery report: the recipient, action, status, the remote reply and the original Message-ID', async () => {
    const report = await readDeliveryReport(fixture('postfix-failed-5.1.1.eml'));
    expect(report.notABounce).toBeUndefined();
    expect(report.recipients).toEqual([{ recipient: 'gone@dest.test', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 <gone@dest.test>: Recipient address rejected: No such user' }]);
    expect(report.originalMessageIds).toEqual(['<m1-go@bureau.test>']);
    expect(report.reportKey).toBe('<20261207234613.E2E7023E14B@a.test>');
    expect(classifyFailure(report.recipients[0]!)).toBe('hard');
  });

  it('classes a spam refusal (5.7.1) as refused, a delay warning and a relay giving up on a full mailbox (4.2.2) as soft', async () => {
    const spam = await readDeliveryReport(fixture('postfix-failed-5.7.1.eml'));
    expect(spam.recipients[0]).toMatchObject({ action: 'failed', status: '5.7.1' });
    expect(classifyFailure(spam.recipients[0]!)).toBe('refused');
    const delayed = await readDeliveryReport(fixture('postfix-delayed-4.2.2.eml'));
    expect(delayed.recipients[0]).toMatchObject({ action: 'delayed', status: '4.2.2' });
    expect(classifyFailure(delayed.recipients[0]!)).toBe('soft');
    const gaveUp = await readDeliveryReport(fixture('postfix-failed-4.2.2.eml'));
    expect(gaveUp.recipients[0]).toMatchObject({ action: 'failed', status: '4.2.2' });
    expect(classifyFailure(gaveUp.recipients[0]!)).toBe('soft');
    // Each report is its own: the delay warning and the final failure of one mail count apart.
    expect(new Set([spam.reportKey, delayed.reportKey, gaveUp.reportKey]).size).toBe(3);
  });

  it('reads a bounce in free text (qmail): permanent, its status and the quoted Message-ID', async () => {
    const report = await readDeliveryReport(fixture('qmail-failed.eml'));
    expect(report.recipients).toEqual([{ recipient: 'wethouder@gemeente.test', action: 'failed', status: '5.1.1', diagnostic: "Sorry, no mailbox here by that name. (#5.1.1)" }]);
    expect(report.originalMessageIds).toEqual(['<orig-qmail@bureau.test>']);
    expect(classifyFailure(report.recipients[0]!)).toBe('hard');
  });

  it('does not take an out-of-office reply for a bounce', async () => {
    const report = await readDeliveryReport(fixture('out-of-office.eml'));
    expect(report.notABounce).toMatch(/automatic reply/);
    expect(report.recipients).toEqual([]);
  });

  it('gives a report without a Message-ID a key of its content, so that the same one received twice is one', async () => {
    const raw = readFileSync(new URL('../fixtures/bounces/qmail-failed.eml', import.meta.url), 'utf8').replace(/^Message-ID: <qmail-1@mx.gemeente.test>\n/m, '');
    const a = await readDeliveryReport(Buffer.from(raw));
    const b = await readDeliveryReport(Buffer.from(raw));
    expect(a.reportKey).toMatch(/^sha256:/);
    expect(a.reportKey).toBe(b.reportKey);
  });
});

describe('what a failure means for the invitee', () => {
  const cases: [string, Parameters<typeof classifyFailure>[0], string | undefined][] = [
    ['bad mailbox', { action: 'failed', status: '5.1.1' }, 'hard'],
    ['no such domain (null MX)', { action: 'failed', status: '5.1.10' }, 'hard'],
    ['our own sender address refused', { action: 'failed', status: '5.1.8' }, 'refused'],
    ['mailbox disabled', { action: 'failed', status: '5.2.1' }, 'hard'],
    ['mailbox full', { action: 'failed', status: '5.2.2' }, 'soft'],
    ['message too big', { action: 'failed', status: '5.2.3' }, 'refused'],
    ['unable to route (no such domain), Exchange Online unknown recipient', { action: 'failed', status: '5.4.1' }, 'hard'],
    ['routing loop', { action: 'failed', status: '5.4.6' }, 'soft'],
    ['policy, spam', { action: 'failed', status: '5.7.1', diagnostic: '550 5.7.1 user unknown' }, 'refused'],
    ['a plain 5.0.0 in words of a dead mailbox', { action: 'failed', status: '5.0.0', diagnostic: '550 Requested action not taken: mailbox unavailable' }, 'hard'],
    ['a plain 5.0.0 in other words', { action: 'failed', status: '5.0.0', diagnostic: '550 Message content rejected' }, 'refused'],
    ['no status, a 4xx reply', { action: 'failed', diagnostic: '451 try again later' }, 'soft'],
    ['delayed', { action: 'delayed', status: '4.4.7' }, 'soft'],
    ['delivered', { action: 'delivered', status: '2.0.0' }, undefined],
    ['relayed', { action: 'relayed', status: '2.0.0' }, undefined],
  ];
  it.each(cases)('%s', (_name, report, kind) => {
    expect(classifyFailure(report)).toBe(kind);
  });
});

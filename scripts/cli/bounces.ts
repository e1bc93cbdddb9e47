// survey bounces: what came back after the relay took the mail (usecases/bounces.ts); and survey
// read-bounces: delivery reports saved from a mailbox (the From address's, when BOUNCE_ADDRESS is
// not set, or before it was), as .eml files, Maildir folders or mbox files.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { audit } from '../../server/db/audit.ts';
import { returnPaths } from '../../server/mail/return-path.ts';
import { bounceSummary, receiveBounce } from '../../server/usecases/bounces.ts';
import { cliActor } from './actor.ts';
import { plural, resolveSurvey, type CliContext } from './fieldwork.ts';

const KIND_TEXT = { hard: 'hard (address dead: marked bounced)', soft: 'soft (delayed, mailbox full: may pass later)', refused: "refused (spam filter or policy: take it up with their IT desk, then survey retry --domain)" };

export async function bouncesCommand(ctx: CliContext, surveyArg: string, options: { list?: boolean }): Promise<number> {
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const summary = await bounceSummary(ctx.db, survey.id);
  if (summary.reports.length === 0) {
    ctx.io.out(`${survey.id}: no delivery reports received${ctx.config.mail?.bounces ? '' : ' (BOUNCE_ADDRESS is not set: reports go to the From address; save them and read them with survey read-bounces)'}`);
    return 0;
  }
  ctx.io.out(`${survey.id}: delivery reports received after the relay took the mail, invitees per kind`);
  for (const kind of ['hard', 'soft', 'refused'] as const) ctx.io.out(`  ${String(summary.invitees[kind]).padStart(6)}  ${KIND_TEXT[kind]}`);
  ctx.io.out('reports per kind, mailing, domain and status');
  for (const g of summary.groups) ctx.io.out(`  ${String(g.reports).padStart(6)}  ${g.kind.padEnd(7)}  ${g.mailing}  ${g.domain}  ${g.status ?? '-'}`);
  if (options.list) {
    ctx.io.out('received (UTC)     kind     mailing  status  address  reason');
    for (const r of summary.reports) ctx.io.out(`${r.receivedAt.slice(0, 16).replace('T', ' ')}  ${r.kind.padEnd(7)}  ${r.mailing}  ${r.status ?? '-'}  ${r.email}  ${r.reason}`);
    // Contact data leaves the system: noted, by count.
    await audit(ctx.db, { actor: cliActor(), action: 'bounce list', surveyId: survey.id, detail: plural(summary.reports.length, 'report', 'reports') }, ctx.config.now());
  } else ctx.io.out(`each report, with the address: survey bounces ${survey.id} --list; a new address: survey address ${survey.id} <old> <new>`);
  return 0;
}

/** Every message in the files and folders named: .eml files, Maildir folders (any depth), mbox files. */
function* messagesIn(path: string): Generator<{ where: string; raw: Buffer }> {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) if (!name.startsWith('.')) yield* messagesIn(join(path, name));
    return;
  }
  const raw = readFileSync(path);
  if (!raw.subarray(0, 5).equals(Buffer.from('From '))) {
    yield { where: path, raw };
    return;
  }
  // mbox: a message starts at a line "From " after a blank line; ">From " in a body is quoted.
  const text = raw.toString('latin1');
  const starts = [...text.matchAll(/(?:^|\n)From [^\n]*\n/g)].map((m) => ({ at: m.index + (m[0].startsWith('\n') ? 1 : 0), body: m.index + m[0].length }));
  for (let i = 0; i < starts.length; i++) {
    const body = text.slice(starts[i]!.body, i + 1 < starts.length ? starts[i + 1]!.at : undefined).replace(/^>(>*From )/gm, '$1');
    yield { where: `${path} (message ${i + 1})`, raw: Buffer.from(body, 'latin1') };
  }
}

export async function readBouncesCommand(ctx: CliContext, paths: string[]): Promise<number> {
  const returnPath = ctx.config.mail?.bounces ? returnPaths(ctx.secrets, ctx.config.mail.bounces.address) : undefined;
  const counts = { hard: 0, soft: 0, refused: 0, ignored: 0 };
  for (const path of paths) {
    let messages;
    try {
      messages = [...messagesIn(path)];
    } catch (e) {
      ctx.io.err(`${path}: cannot be read (${(e as { code?: string }).code ?? (e as Error).message})`);
      return 1;
    }
    for (const { where, raw } of messages) {
      // A mailbox keeps the envelope recipient in Delivered-To / X-Original-To: our return path.
      const head = raw.subarray(0, raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n')).toString('latin1');
      const recipients = [...head.matchAll(/^(?:Delivered-To|X-Original-To):\s*<?([^>\s]+)>?/gim)].map((m) => m[1]!);
      const outcome = await receiveBounce(ctx.db, ctx.secrets, returnPath, recipients, raw, ctx.config.now());
      if ('ignored' in outcome) {
        counts.ignored++;
        ctx.io.out(`${where}: ignored: ${outcome.ignored}`);
      } else counts[outcome.recorded]++;
    }
  }
  ctx.io.out(`recorded ${counts.hard} hard, ${counts.soft} soft, ${counts.refused} refused; ${counts.ignored} ignored (see above); see survey bounces <survey>`);
  return 0;
}

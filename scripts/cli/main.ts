// The `survey` command line. Each command lives in its own module and returns an exit code.
import { Command, InvalidArgumentError } from 'commander';
import { bouncesCommand, readBouncesCommand } from './bounces.ts';
import { checkCommand } from './check.ts';
import { processOutput, type Output } from './output.ts';
import { printCommand } from './print.ts';
import { simulateCommand } from './simulate.ts';
import { adminAddCommand, adminDisableCommand, adminListCommand } from './admin.ts';
import { addressCommand, callCommand, callListCommand, closeCommand, codeCommand, createCommand, exportCommand, importCommand, listCommand, markCommand, markListCommand, nonResponseCommand, previewCommand, purgeCommand, resendCommand, retryCommand, scheduleCommand, sendCommand, statusCommand, withContext } from './fieldwork.ts';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

export async function main(argv: string[], io: Output = processOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('survey')
    .description('Questionnaires and fieldwork for research bureaus.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('check')
    .description('check questionnaire files: schema, references, routing, reachability')
    .argument('<file...>', 'questionnaire JSON files')
    .action((files: string[]) => {
      exitCode = checkCommand(files, io);
    });

  program
    .command('simulate')
    .description('walk random respondents through a questionnaire and report coverage')
    .argument('<file>', 'questionnaire JSON file')
    .option('-n, --respondents <n>', 'number of simulated respondents', positiveInteger, 1000)
    .option('-s, --seed <s>', 'random seed (same seed, same walk)', integer, 1)
    .action((file: string, options: { respondents: number; seed: number }) => {
      exitCode = simulateCommand(file, options, io);
    });

  program
    .command('print')
    .description('the questionnaire on paper, to sign off: numbered questions, every option, routing and checks in words (HTML with a print stylesheet)')
    .argument('<file>', 'questionnaire JSON file')
    .option('--out <file>', 'write the HTML to this file (default: print it to stdout)')
    .option('--lang <lang>', 'nl or en', 'nl')
    .action((file: string, options: { out?: string; lang: string }) => {
      exitCode = printCommand(file, options, io);
    });

  // Commands that work on the database: open it from the environment, run, close it.
  const withDb = async (run: Parameters<typeof withContext>[2]): Promise<void> => {
    exitCode = await withContext(io, env, run);
  };

  program
    .command('create')
    .description('create or update surveys from definition files (docs/fieldwork.md)')
    .argument('<definition...>', 'survey definition JSON files')
    .action((files: string[]) => withDb((ctx) => createCommand(ctx, files)));

  program
    .command('list')
    .description('the surveys: stage (not-open, open, closed, purged), dates, invited and responses')
    .action(() => withDb((ctx) => listCommand(ctx)));

  program
    .command('import')
    .description('import a sample frame (CSV): all rows or, if any row is bad, none')
    .argument('<survey>', 'survey id, or its definition file')
    .argument('<frame>', 'CSV with an email column and the stratum columns')
    .action((survey: string, frame: string) => withDb((ctx) => importCommand(ctx, survey, frame)));

  program
    .command('schedule')
    .description('show the planned mailings and, per stratum, how many each would reach now (sends nothing)')
    .argument('<survey>', 'survey id, or its definition file')
    .action((survey: string) => withDb((ctx) => scheduleCommand(ctx, survey)));

  program
    .command('preview')
    .description('show the mailings as they will be sent (for a sample invitee, or with the merge fields of one), write them to files, or send them to yourself as test mails; the link and code are placeholders')
    .argument('<survey>', 'survey id, or its definition file')
    .option('--mailing <id>', 'only this mailing (default: all of them)')
    .option('--invitee <email>', "with this invitee's name, salutation and organisation (not their code)")
    .option('--out <folder>', 'write <mailing>.eml and <mailing>.html into this folder')
    .option('--send-to <address>', 'send each as a test mail to this address (subject "[Test] …"), through SMTP_URL or into the mail folder')
    .action((survey: string, options: { mailing?: string; invitee?: string; out?: string; sendTo?: string }) => withDb((ctx) => previewCommand(ctx, survey, options)));

  program
    .command('send')
    .description('queue due mailings and send what is due, once (the server does this continuously)')
    .argument('<survey>', 'survey id, or its definition file')
    .option('--limit <n>', 'send at most this many mails', positiveInteger)
    .option('--interrupted-after <seconds>', 'a mail still marked "sending" this long is from a sender that stopped: send it again', integer, 60)
    .action((survey: string, options: { limit?: number; interruptedAfter: number }) => withDb((ctx) => sendCommand(ctx, survey, options)));

  program
    .command('mark')
    .description('record what arrived by phone or mail: not-eligible (e.g. left office) or refused')
    .argument('<survey>', 'survey id, or its definition file')
    .argument('<email>', 'the invitee')
    .argument('<disposition>', 'not-eligible or refused')
    .option('--withdraw-answers', 'also delete the answers they gave so far (a questionnaire in progress), at their request')
    .action((survey: string, email: string, disposition: string, options: { withdrawAnswers?: boolean }) => withDb((ctx) => markCommand(ctx, survey, email, disposition, options)));

  program
    .command('mark-list')
    .description('mark everyone on a list not-eligible or refused (e.g. those who left office), all or none; the list: one address per line, or a CSV with an email column')
    .argument('<survey>', 'survey id, or its definition file')
    .argument('<file>', 'the list')
    .argument('<disposition>', 'not-eligible or refused')
    .action((survey: string, file: string, disposition: string) => withDb((ctx) => markListCommand(ctx, survey, file, disposition)));

  program
    .command('retry')
    .description('send again the mail given up on for a domain or an address, once the cause is mended (e.g. their IT desk lets our mail through); whoever bounced is invited again')
    .argument('<survey>', 'survey id, or its definition file')
    .option('--domain <domain>', 'everyone at this domain (as survey schedule lists them)')
    .option('--email <address>', 'one invitee')
    .action((survey: string, options: { domain?: string; email?: string }) => withDb((ctx) => retryCommand(ctx, survey, options)));

  program
    .command('bounces')
    .description('delivery reports that came back after the relay took the mail: hard (invitee marked bounced), soft and refused, per mailing and domain')
    .argument('<survey>', 'survey id, or its definition file')
    .option('--list', 'every report, with the address and the reason')
    .action((survey: string, options: { list?: boolean }) => withDb((ctx) => bouncesCommand(ctx, survey, options)));

  program
    .command('read-bounces')
    .description('record delivery reports saved from a mailbox: .eml files, Maildir folders or mbox files (matched to their mail by return path or Message-ID)')
    .argument('<paths...>', 'files or folders')
    .action((paths: string[]) => withDb((ctx) => readBouncesCommand(ctx, paths)));

  program
    .command('call-list')
    .description('the non-responders to phone (invited, started, or bounced), with their contact data, strata and earlier calls, as CSV; record each call with survey call')
    .argument('<survey>', 'survey id, or its definition file')
    .option('--with-phone', 'only those with a phone number')
    .option('--not-called-since <date>', 'leave out whoever was called on or after this date (YYYY-MM-DD), unless a call back they asked for is due')
    .option('--out <file>', 'write the CSV to this file (with a byte order mark, for spreadsheets)')
    .action((survey: string, options: { withPhone?: boolean; notCalledSince?: string; out?: string }) => withDb((ctx) => callListCommand(ctx, survey, options)));

  program
    .command('call')
    .description('record a call to a non-responder and what it brought; refused and not-eligible also set their state, as survey mark does (noted in the audit log)')
    .argument('<survey>', 'survey id, or its definition file')
    .argument('<email>', 'the invitee')
    .argument('<outcome>', 'no-answer, call-back, will-respond, wrong-number, refused or not-eligible')
    .option('--call-back <date>', 'the date to call again (YYYY-MM-DD), with no-answer, call-back or will-respond')
    .option('--note <text>', 'one line for the call room, at most 200 characters: when to call and whom to ask for, not what was said')
    .option('--phone <number>', 'a number learnt in the call (a direct line; the right one after a wrong number): replaces the one on file')
    .action((survey: string, email: string, outcome: string, options: { callBack?: string; note?: string; phone?: string }) => withDb((ctx) => callCommand(ctx, survey, email, outcome, options)));

  program
    .command('nonresponse')
    .description('record the answers of a telephone non-response interview with someone who does not take part (the questions are in the survey definition); stored apart and linked to nobody, once per person')
    .argument('<survey>', 'survey id, or its definition file')
    .argument('<email>', 'the invitee (refused)')
    .argument('[answers...]', 'QUESTION=option for every question, e.g. NR1=ja_meerdere; without answers, the questions and options are listed')
    .action((survey: string, email: string, answers: string[]) => withDb((ctx) => nonResponseCommand(ctx, survey, email, answers)));

  program
    .command('code')
    .description("an invitee's typed code and personal link, to read out on the phone or put in a letter (noted in the audit log)")
    .argument('<survey>', 'survey id, or its definition file')
    .argument('<email>', 'the invitee')
    .action((survey: string, email: string) => withDb((ctx) => codeCommand(ctx, survey, email)));

  program
    .command('resend')
    .description('send a mail again to one invitee who cannot find it (default: the invitation), with their link and code, on the next send (noted in the audit log)')
    .argument('<survey>', 'survey id, or its definition file')
    .argument('<email>', 'the invitee')
    .option('--mailing <id>', 'the mailing to send again, if not the invitation (one that reached them)')
    .action((survey: string, email: string, options: { mailing?: string }) => withDb((ctx) => resendCommand(ctx, survey, email, options)));

  program
    .command('address')
    .description("correct an invitee's email address (learnt by phone, say); if the old one bounced, what bounced is sent again to the new one")
    .argument('<survey>', 'survey id, or its definition file')
    .argument('<email>', 'the address in the sample')
    .argument('<new-email>', 'the right address')
    .action((survey: string, email: string, newEmail: string) => withDb((ctx) => addressCommand(ctx, survey, email, newEmail)));

  program
    .command('status')
    .description('response per stratum: counts, response %, AAPOR rates, margin of error, reliability flags')
    .argument('<survey>', 'survey id, or its definition file')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--by <columns>', 'group by these sample columns (comma-separated) instead of the strata, e.g. functie,adrestype (sample.extra)')
    .action((survey: string, options: { format: string; by?: string }) => withDb((ctx) => statusCommand(ctx, survey, options.format, options)));

  program
    .command('export')
    .description('analysts: the anonymous responses as CSV (weighted, random order), the codebook, SPSS syntax, the topline per stratum')
    .argument('<survey>', 'survey id, or its definition file')
    .option('--format <format>', 'csv, codebook, codebook-json, sps, topline, or all', 'csv')
    .option('--out <folder>', 'write files into this folder (default: print to stdout)')
    .option('--keep-small-strata', 'show carried strata as they are, also values fewer than k responses have (by default merged or left out, and said so in the codebook)')
    .action((survey: string, options: { format: string; out?: string; keepSmallStrata?: boolean }) =>
      withDb((ctx) => exportCommand(ctx, survey, options.format, options.out, { keepSmallStrata: options.keepSmallStrata === true })),
    );

  const admin = program.command('admin').description('accounts for the /admin dashboard');
  admin
    .command('add')
    .description('add an account, or set a new password and role; the password is read from the terminal or stdin')
    .argument('<email>', 'the email address to sign in with')
    .option('--role <role>', 'fieldwork (response per stratum, mailings) or analyst (also response data and exports)', 'fieldwork')
    .action((email: string, options: { role: string }) => withDb((ctx) => adminAddCommand(ctx, email, options.role)));
  admin
    .command('list')
    .description('list the accounts')
    .action(() => withDb((ctx) => adminListCommand(ctx)));
  admin
    .command('disable')
    .description('disable an account and end its sessions')
    .argument('<email>')
    .action((email: string) => withDb((ctx) => adminDisableCommand(ctx, email)));

  program
    .command('close')
    .description('close a survey: codes stop working; unfinished questionnaires past the counting rule become partial responses')
    .argument('<survey>', 'survey id, or its definition file')
    .action((survey: string) => withDb((ctx) => closeCommand(ctx, survey)));

  program
    .command('purge')
    .description('after fieldwork: remove all contact data, keeping counts per stratum')
    .argument('<survey>', 'survey id')
    .option('--yes', 'really remove the contact data')
    .action((survey: string, options: { yes?: boolean }) => withDb((ctx) => purgeCommand(ctx, survey, options)));

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    if (typeof code === 'number') return code === 0 ? 0 : 2;
    throw e;
  }
  return exitCode;
}

// Postfix from Debian (scripts/install-system-packages.sh), as a real mail server for the tests:
// each instance gets a folder of its own under the temp dir (main.cf, master.cf, queue, Maildirs,
// its log), listens on a free loopback port, and is started and stopped with `postfix -c <folder>`.
// Postfix runs its master as root, so these tests need root, as CI has; elsewhere they are
// skipped, with a word why (postfixMissing).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const POSTFIX = '/usr/sbin/postfix';

/** Why Postfix cannot run here, or undefined when it can. */
export const postfixMissing: string | undefined = !existsSync(POSTFIX)
  ? `${POSTFIX} is not installed (bash scripts/install-system-packages.sh)`
  : process.getuid?.() !== 0
    ? 'Postfix needs root to start its master process'
    : undefined;

export interface Postfix {
  name: string;
  port: number;
  dir: string;
  /** The messages delivered to a Maildir under <dir>/mail, as text (see `virtualMailboxes`). */
  delivered(mailbox: string): string[];
  /** Postfix's own log (maillog_file), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const MASTER_CF = [
  'pickup unix n - n 60 1 pickup',
  'cleanup unix n - n - 0 cleanup',
  'qmgr unix n - n 300 1 qmgr',
  'tlsmgr unix - - n 1000? 1 tlsmgr',
  'rewrite unix - - n - - trivial-rewrite',
  'bounce unix - - n - 0 bounce',
  'defer unix - - n - 0 bounce',
  'trace unix - - n - 0 bounce',
  'verify unix - - n - 1 verify',
  'flush unix n - n 1000? 0 flush',
  'proxymap unix - - n - - proxymap',
  'proxywrite unix - - n - 1 proxymap',
  'smtp unix - - n - - smtp',
  'relay unix - - n - - smtp',
  'showq unix n - n - - showq',
  'error unix - - n - - error',
  'retry unix - - n - - error',
  'discard unix - - n - - discard',
  'local unix - n n - - local',
  'virtual unix - n n - - virtual',
  'lmtp unix - - n - - lmtp',
  'anvil unix - - n - 1 anvil',
  'scache unix - - n - 1 scache',
  'postlog unix-dgram n - n - 1 postlogd',
];

/**
 * Starts an instance. `main`: main.cf settings on top of the defaults below (no DNS, loopback
 * only, retries within seconds); `files`: tables and certificates to write into its folder first
 * (refer to them as `${dir}/name` with the `{dir}` placeholder in settings).
 */
export async function startPostfix(name: string, options: { main?: Record<string, string>; files?: Record<string, string> } = {}): Promise<Postfix> {
  const dir = mkdtempSync(join(tmpdir(), `postfix-${name}-`));
  // The queue's daemons run as the postfix user: they must be able to reach the folder.
  chmodSync(dir, 0o755);
  for (const sub of ['queue', 'data', 'mail']) mkdirSync(join(dir, sub));
  await run('chown', ['postfix', join(dir, 'data'), join(dir, 'mail')]);
  const port = await freePort();
  const fill = (text: string) => text.replaceAll('{dir}', dir);
  for (const [file, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, file), fill(text));
  const settings: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: `${dir}/queue`,
    data_directory: `${dir}/data`,
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    myhostname: `${name}.test`,
    mydestination: '',
    alias_maps: '',
    alias_database: '',
    local_recipient_maps: '',
    mynetworks: '127.0.0.0/8',
    maillog_file_prefixes: dir,
    maillog_file: `${dir}/maillog`,
    smtp_dns_support_level: 'disabled',
    smtp_host_lookup: 'native',
    biff: 'no',
    queue_run_delay: '1s',
    minimal_backoff_time: '1s',
    maximal_backoff_time: '2s',
    ...Object.fromEntries(Object.entries(options.main ?? {}).map(([k, v]) => [k, fill(v)])),
  };
  writeFileSync(join(dir, 'main.cf'), Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  writeFileSync(join(dir, 'master.cf'), [`127.0.0.1:${port} inet n - n - - smtpd`, ...MASTER_CF].join('\n') + '\n');
  const postfix = (command: string) => run(POSTFIX, ['-c', dir, command]);
  try {
    await postfix('start');
  } catch (e) {
    throw new Error(`postfix ${name} did not start: ${(e as { stderr?: string }).stderr ?? (e as Error).message}\n${existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : ''}`);
  }
  await until(() => canConnect(port), `postfix ${name} to listen on ${port}`);
  const pidFile = join(dir, 'queue', 'pid', 'master.pid');
  return {
    name,
    port,
    dir,
    delivered(mailbox) {
      const box = join(dir, 'mail', mailbox);
      return ['new', 'cur'].flatMap((sub) => (existsSync(join(box, sub)) ? readdirSync(join(box, sub)).map((f) => readFileSync(join(box, sub, f), 'utf8')) : []));
    },
    log: () => (existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : ''),
    async stop() {
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
      await postfix('stop').catch(() => {});
      if (pid) await until(async () => !isRunning(pid), `postfix ${name} to stop`);
    },
  };
}

/**
 * Settings for local delivery: every address in `mailboxes` to a Maildir of its own under
 * <dir>/mail (see Postfix.delivered), other recipients of those domains refused as unknown.
 */
export function virtualMailboxes(domains: string[], mailboxes: Record<string, string>): { main: Record<string, string>; files: Record<string, string> } {
  return {
    main: {
      virtual_mailbox_domains: domains.join(', '),
      virtual_mailbox_base: '{dir}/mail',
      virtual_mailbox_maps: 'texthash:{dir}/mailboxes',
      virtual_uid_maps: 'static:' + uidOf('postfix'),
      virtual_gid_maps: 'static:' + gidOf('postfix'),
    },
    files: { mailboxes: Object.entries(mailboxes).map(([address, box]) => `${address} ${box}/`).join('\n') + '\n' },
  };
}

function passwdEntry(user: string): string[] {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user} (is Postfix installed?)`);
  return line.split(':');
}
const uidOf = (user: string) => passwdEntry(user)[2]!;
const gidOf = (user: string) => passwdEntry(user)[3]!;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits for `check` to hold, looking every 100 ms, for at most `ms`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

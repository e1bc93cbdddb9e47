// Settings from the environment, for the two entry points (server/main.ts and the survey CLI).
// Nothing else reads process.env.
//
//   PORT (3000), HOST (127.0.0.1), DATABASE_PATH (data/enquete.sqlite), PUBLIC_URL,
//   SERVER_SECRET (else kept in a file "secret" beside the database, created on first use),
//   COOKIE_SECURE (true), LOG_LEVEL (info), SMTP_URL (else .eml files in MAIL_DIR),
//   MAIL_DIR (dev-mail, outside the data folder), SENDER_INTERVAL_SECONDS (15), SENDER_STALE_CLAIM_SECONDS (60),
//   DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE (all three, or none: no DKIM signature),
//   TRUST_PROXY (none; the number of proxies in front, or their addresses),
//   SMTP_CA_FILE (none: the relay's certificate is checked against the system's CAs),
//   BOUNCE_ADDRESS (none: bounces go to the From address), BOUNCE_SMTP_PORT (none: no SMTP
//   endpoint for reports), BOUNCE_SMTP_HOST (HOST)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type AppConfig } from './config.ts';
import { checkDkimConfig, type DkimConfig } from './mail/dkim.ts';
import { generateMasterSecret } from './security/secrets.ts';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** The secret never goes into the database; without SERVER_SECRET it is kept in a file beside it. */
function serverSecret(env: NodeJS.ProcessEnv, databasePath: string): { secret: string; secretSource: string } {
  if (env.SERVER_SECRET) return { secret: env.SERVER_SECRET, secretSource: 'SERVER_SECRET' };
  const file = resolve(dirname(databasePath), 'secret');
  let created = '';
  try {
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, generateMasterSecret() + '\n', { mode: 0o600 });
      created = ', just created because SERVER_SECRET was not set';
    }
    return { secret: readFileSync(file, 'utf8').trim(), secretSource: `the file ${file}${created}` };
  } catch (e) {
    throw new ConfigError(`SERVER_SECRET is not set, and the server secret cannot be kept in ${file} (${(e as { code?: string }).code ?? (e as Error).message}): set SERVER_SECRET, or let DATABASE_PATH name a folder this process can write`);
  }
}

/** DKIM signing from DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE: all three, or none. */
function dkimFrom(env: NodeJS.ProcessEnv): DkimConfig | undefined {
  const names = ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY_FILE'] as const;
  const missing = names.filter((n) => !env[n]);
  if (missing.length === names.length) return undefined;
  if (missing.length > 0) throw new ConfigError(`DKIM signing needs ${names.join(', ')}; ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set`);
  let privateKey: string;
  try {
    privateKey = readFileSync(env.DKIM_PRIVATE_KEY_FILE!, 'utf8');
  } catch (e) {
    throw new ConfigError(`DKIM_PRIVATE_KEY_FILE: cannot read ${env.DKIM_PRIVATE_KEY_FILE} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const dkim = { domain: env.DKIM_DOMAIN!.trim().toLowerCase(), selector: env.DKIM_SELECTOR!.trim(), privateKey };
  checkDkimConfig(dkim);
  return dkim;
}

/** SMTP_CA_FILE: the CA (PEM) that signs the relay's certificate, when it is the bureau's own. */
function smtpCaFrom(env: NodeJS.ProcessEnv): { smtpCa?: string } {
  if (!env.SMTP_CA_FILE) return {};
  try {
    const pem = readFileSync(env.SMTP_CA_FILE, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`SMTP_CA_FILE: ${env.SMTP_CA_FILE} holds no certificate (PEM, -----BEGIN CERTIFICATE-----)`);
    return { smtpCa: pem };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`SMTP_CA_FILE: cannot read ${env.SMTP_CA_FILE} (${(e as { code?: string }).code ?? (e as Error).message})`);
  }
}

/** Whether the address respondents use is this machine's: a local demo or development. */
function isLocal(publicUrl: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(publicUrl).hostname);
  } catch {
    return false;
  }
}

/**
 * Without SMTP_URL mails are .eml files, each with a respondent's link and code: for development
 * and the demo, so not inside the data folder (a backup of it must not be a second copy of the
 * codes). A server that respondents reach from elsewhere needs SMTP_URL, or MAIL_DIR set on purpose.
 */
function mailDir(env: NodeJS.ProcessEnv, publicUrl: string): string {
  if (!env.SMTP_URL && !env.MAIL_DIR && !isLocal(publicUrl)) {
    throw new ConfigError(
      `PUBLIC_URL is ${publicUrl}, not this machine, but SMTP_URL is not set: mails would only be written as .eml files, each with a respondent's code. Set SMTP_URL (the mail relay), or MAIL_DIR to keep .eml files on purpose`,
    );
  }
  return resolve(env.MAIL_DIR ?? `${projectRoot}dev-mail`);
}

/**
 * TRUST_PROXY: unset (no proxy: the connection's address is the client's), the number of proxies
 * in front of the server, or their addresses (comma-separated IP addresses or CIDR ranges).
 */
function trustProxyFrom(env: NodeJS.ProcessEnv): false | number | string[] {
  const value = env.TRUST_PROXY?.trim();
  if (!value) return false;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const bad = entries.filter((e) => {
    const [address, bits, ...rest] = e.split('/');
    const family = isIP(address ?? '');
    return family === 0 || rest.length > 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
  });
  if (bad.length > 0) throw new ConfigError(`TRUST_PROXY: ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} not an IP address or CIDR range; give the number of proxies in front of the server, or their addresses, comma-separated`);
  return entries;
}

/** BOUNCE_ADDRESS, and BOUNCE_SMTP_PORT (with BOUNCE_SMTP_HOST) to receive the reports by SMTP. */
function bouncesFrom(env: NodeJS.ProcessEnv): { bounces?: NonNullable<AppConfig['mail']>['bounces'] } {
  const address = env.BOUNCE_ADDRESS?.trim();
  const port = env.BOUNCE_SMTP_PORT?.trim();
  if (!address) {
    if (port) throw new ConfigError('BOUNCE_SMTP_PORT is set but BOUNCE_ADDRESS is not: reports can only be matched to mails that went out with a return path of their own; set BOUNCE_ADDRESS (e.g. bounces@bounce.bureau.nl)');
    return {};
  }
  if (port === undefined || port === '') return { bounces: { address } };
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new ConfigError(`BOUNCE_SMTP_PORT: "${port}" is not a port number (1-65535)`);
  return { bounces: { address, listen: { host: env.BOUNCE_SMTP_HOST ?? env.HOST ?? '127.0.0.1', port: Number(port) } } };
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): AppConfig & { port: number; host: string } {
  const port = Number(env.PORT ?? 3000);
  const databasePath = resolve(env.DATABASE_PATH ?? `${projectRoot}data/enquete.sqlite`);
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, '');
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    databasePath,
    ...serverSecret(env, databasePath),
    publicUrl,
    secureCookies: env.COOKIE_SECURE !== 'false',
    questionnairesDir: `${projectRoot}questionnaires`,
    codeAttemptsPerMinute: 10,
    trustProxy: trustProxyFrom(env),
    logger: { level: env.LOG_LEVEL ?? 'info' },
    now: () => new Date(),
    mail: {
      smtpUrl: env.SMTP_URL || undefined,
      ...smtpCaFrom(env),
      dir: mailDir(env, publicUrl),
      senderIntervalMs: Number(env.SENDER_INTERVAL_SECONDS ?? 15) * 1000,
      staleClaimMs: Number(env.SENDER_STALE_CLAIM_SECONDS ?? 60) * 1000,
      dkim: dkimFrom(env),
      ...bouncesFrom(env),
    },
  };
}

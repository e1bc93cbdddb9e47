// The .eml transport is for development and the demo: every file holds a respondent's link and
// code, so the files must not be a second copy of the codes (docs/anonymity.md): outside the data
// folder by default, readable by the owner only, a folder per survey that purge removes, and no
// server reachable from elsewhere writes them unless told to on purpose.
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../server/config.ts';
import { configFromEnvironment } from '../../server/environment.ts';
import { fileTransport, removeSurveyMailFiles, smtpTransport, type OutgoingMail } from '../../server/mail/transport.ts';
import { outgoing } from '../helpers/mail.ts';

/** The transport test's mail, as one survey's. */
const mail = (to: string, surveyId: string): OutgoingMail => ({ ...outgoing(to), surveyId });

describe('the .eml transport', () => {
  it('keeps each survey in a folder of its own, readable by the owner only, and purge removes that folder alone', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mail-files-')), 'dev-mail');
    const transport = fileTransport(dir);
    await transport.send(mail('a@gemeente.test', 'owb-2024'));
    await transport.send(mail('b@gemeente.test', 'monitor-2024'));
    expect(readdirSync(dir).sort()).toEqual(['monitor-2024', 'owb-2024']);
    const [file] = readdirSync(join(dir, 'owb-2024'));
    expect(statSync(join(dir, 'owb-2024', file!)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'owb-2024')).mode & 0o777).toBe(0o700);

    expect(removeSurveyMailFiles(dir, 'owb-2024')).toBe(true);
    expect(readdirSync(dir)).toEqual(['monitor-2024']);
    expect(removeSurveyMailFiles(dir, 'owb-2024')).toBe(false);
  });
});

describe('where mail goes, from the environment', () => {
  const base = { DATABASE_PATH: join(tmpdir(), 'mail-files-env', 'data', 'enquete.sqlite'), SERVER_SECRET: 'mail-files-test-secret-of-sufficient-length' };

  it('puts the .eml folder outside the data folder by default', () => {
    const config = configFromEnvironment(base);
    const data = dirname(config.databasePath);
    expect(relative(data, config.mail!.dir).startsWith('..')).toBe(true);
  });

  it('refuses to start a server that respondents reach from elsewhere without SMTP_URL, unless MAIL_DIR is set on purpose', () => {
    expect(() => configFromEnvironment({ ...base, PUBLIC_URL: 'https://enquete.bureau.nl' })).toThrow(ConfigError);
    expect(() => configFromEnvironment({ ...base, PUBLIC_URL: 'https://enquete.bureau.nl' })).toThrow(/SMTP_URL/);
    expect(configFromEnvironment({ ...base, PUBLIC_URL: 'https://enquete.bureau.nl', SMTP_URL: 'smtp://relay.bureau.nl:587' }).mail!.smtpUrl).toBe('smtp://relay.bureau.nl:587');
    expect(configFromEnvironment({ ...base, PUBLIC_URL: 'https://enquete.bureau.nl', MAIL_DIR: '/srv/test-mail' }).mail!.dir).toBe('/srv/test-mail');
    expect(configFromEnvironment({ ...base, PUBLIC_URL: 'http://127.0.0.1:3000' }).mail!.smtpUrl).toBeUndefined();
  });
});

describe('SMTP_URL and SMTP_CA_FILE', () => {
  const base = { DATABASE_PATH: join(tmpdir(), 'smtp-settings', 'data', 'enquete.sqlite'), SERVER_SECRET: 'smtp-settings-test-secret-of-sufficient-length' };

  it('a password that is not URL-encoded gets a sentence that says how, never a stack trace or the password', () => {
    for (const url of ['smtp://bureau:50%zz@relay.example.nl:587', 'smtp://bureau:pa/ss@relay.example.nl:587', 'relay.example.nl', 'http://relay.example.nl']) {
      let error: unknown;
      try {
        smtpTransport(url);
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^SMTP_URL/);
      expect((error as Error).message).not.toMatch(/50%zz|pa\/ss/);
    }
    expect(() => smtpTransport('smtp://bureau:50%25zz%40x@relay.example.nl:587?allowPlaintextLogin=true').close()).not.toThrow();
  });

  it('SMTP_CA_FILE gives the relay\'s CA, read at start, refused when it is not a certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smtp-ca-'));
    const pem = join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(configFromEnvironment({ ...base, SMTP_CA_FILE: pem }).mail!.smtpCa).toContain('BEGIN CERTIFICATE');
    expect(() => configFromEnvironment({ ...base, SMTP_CA_FILE: join(dir, 'missing.pem') })).toThrow(/SMTP_CA_FILE: cannot read .*ENOENT/);
    writeFileSync(join(dir, 'key.pem'), 'not a certificate');
    expect(() => configFromEnvironment({ ...base, SMTP_CA_FILE: join(dir, 'key.pem') })).toThrow(/holds no certificate/);
  });
});

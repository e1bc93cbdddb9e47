// What the app needs to run. main.ts builds it from the environment; tests build it directly.

import type { DkimConfig } from './mail/dkim.ts';

/** A setting that cannot work (a missing part, an unreadable key): said at start, without a stack trace. */
export class ConfigError extends Error {}

export interface AppConfig {
  /** SQLite file, or ':memory:'. */
  databasePath: string;
  /** The server secret (never stored in the database). */
  secret: string;
  /** Where the secret came from ("SERVER_SECRET", or its file), for messages about it. */
  secretSource?: string;
  /** The address respondents use, for links in pages and mails, e.g. https://enquete.example.nl */
  publicUrl: string;
  /** Send cookies with the Secure flag (browsers accept them on http://localhost too). */
  secureCookies: boolean;
  /** Where questionnaire files live (for the demo survey). */
  questionnairesDir: string;
  /** Failed attempts at a code per client address per minute before 429 (successful ones do not count). */
  codeAttemptsPerMinute: number;
  /** Failed attempts at a code from everyone together per minute before typed codes get 429 (links still open); default 100 x codeAttemptsPerMinute. */
  codeFailuresPerMinuteOverall?: number;
  /**
   * Which proxy in front of the server to believe about the client's address (X-Forwarded-For),
   * as Fastify's trustProxy: false (none, the default: the header is the client's to write), the
   * number of proxies, or their addresses. Rate limits key on that address.
   */
  trustProxy?: boolean | number | string[];
  /** Failed admin sign-ins per client, and per account, per minute before 429 (default 5). */
  loginAttemptsPerMinute?: number;
  /** Fastify's logger setting. */
  logger: boolean | { level: string };
  /**
   * How many respondents' marks the ledger learns at a time, for every survey (by default each
   * survey's reporting.minCell, at least 5: usecases/ledger-marks.ts). Not a setting of the
   * environment: tests set 1 to see the ledger at once where batching is not what they test.
   */
  ledgerBatch?: number;
  /** The clock; tests move it. */
  now: () => Date;
  /** Outgoing mail. Without smtpUrl, mails are written as .eml files to dir. */
  mail?: {
    smtpUrl: string | undefined;
    /** A CA of the bureau's own that the relay's certificate is signed by (PEM), from SMTP_CA_FILE. */
    smtpCa?: string;
    dir: string;
    /** How often the in-process sender looks for due mail; 0 turns it off. */
    senderIntervalMs: number;
    /**
     * A mail claimed this long ago without an outcome was cut off by a crash and is sent again
     * (default 60 s: long enough that it is never one another process is still sending).
     */
    staleClaimMs?: number;
    /** Sign every mail with DKIM (when the mail relay does not sign for the sender's domain). */
    dkim?: DkimConfig;
    /**
     * Bounces that come back later (docs/fieldwork.md, "Bounces"): `address` (BOUNCE_ADDRESS)
     * makes every mail's return path bounces+<row>-<tag>@<domain>; `listen` (BOUNCE_SMTP_PORT)
     * receives the reports by SMTP on that port, where the bounce domain's MX, or a forward, points.
     */
    bounces?: { address: string; listen?: { host: string; port: number } };
  };
}

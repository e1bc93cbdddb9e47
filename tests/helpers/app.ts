// A test server and a small "browser" that keeps cookies and submits forms the way a person's
// browser does (CSRF token and page version from the page it last loaded).
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { parse, type HTMLElement } from 'node-html-parser';
import { buildApp } from '../../server/app.ts';
import type { AppConfig } from '../../server/config.ts';
import { formatCode } from '../../server/domain/codes.ts';
import { issueInvitations, type IssuedInvitation, type Person } from '../../server/usecases/invitations.ts';
import { checkDefinition, saveSurvey } from '../../server/usecases/surveys.ts';

export const questionnairesDir = new URL('../../questionnaires/', import.meta.url).pathname;

export interface TestServer {
  app: FastifyInstance;
  clock: { now: Date };
  logs: string[];
  /** Creates a survey on a reference questionnaire and invites people; returns their codes. */
  survey(name: string, people: Person[], options?: SurveyOptions): Promise<IssuedInvitation[]>;
  browser(): Browser;
  close(): Promise<void>;
}

export interface SurveyOptions {
  id?: string;
  carry?: string[];
  strata?: string[];
  /** Local date-times in Europe/Amsterdam. */
  opens?: string;
  closes?: string;
  calendar?: Record<string, unknown>;
  /** More top-level fields of the definition, e.g. weighting. */
  extra?: Record<string, unknown>;
}

/** A survey definition for tests: OWB-like calendar, always-open send window unless overridden. */
export function testDefinition(name: string, o: SurveyOptions = {}) {
  return {
    id: o.id ?? name,
    title: name,
    questionnaire: `${name}.json`,
    sample: { strata: o.strata ?? [], carry: o.carry ?? [] },
    calendar: {
      opens: o.opens ?? '2024-06-03T00:00',
      closes: o.closes ?? '2024-07-09',
      sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' },
      mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }],
      ...o.calendar,
    },
    mail: { from: 'Onderzoek <onderzoek@bureau.test>', organisation: 'Bureau Test' },
    ...o.extra,
  };
}

/**
 * `batchedLedger`: the ledger learns what respondents do in batches of k, as in production
 * (usecases/ledger-marks.ts); by default a test server writes each mark at once (a batch of one),
 * so that tests of other things can read the ledger right after a request.
 */
export async function testServer(
  options: {
    databasePath?: string;
    secret?: string;
    start?: Date;
    loginAttemptsPerMinute?: number;
    codeAttemptsPerMinute?: number;
    codeFailuresPerMinuteOverall?: number;
    trustProxy?: AppConfig['trustProxy'];
    mail?: AppConfig['mail'];
    batchedLedger?: boolean;
  } = {},
): Promise<TestServer> {
  const clock = { now: options.start ?? new Date('2024-06-03T09:00:00+02:00') };
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config: AppConfig = {
    databasePath: options.databasePath ?? ':memory:',
    secret: options.secret ?? 'test-secret-that-is-long-enough-for-hkdf-0123456789',
    publicUrl: 'https://enquete.test',
    secureCookies: true,
    questionnairesDir,
    codeAttemptsPerMinute: options.codeAttemptsPerMinute ?? 1000,
    loginAttemptsPerMinute: options.loginAttemptsPerMinute ?? 1000,
    ...(options.codeFailuresPerMinuteOverall !== undefined ? { codeFailuresPerMinuteOverall: options.codeFailuresPerMinuteOverall } : {}),
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    logger: { level: 'info', stream } as unknown as { level: string },
    now: () => clock.now,
    ...(options.batchedLedger ? {} : { ledgerBatch: 1 }),
    ...(options.mail ? { mail: options.mail } : {}),
  };
  const app = await buildApp(config);
  return {
    app,
    clock,
    logs,
    async survey(name, people, o = {}) {
      const checked = checkDefinition(testDefinition(name, o), questionnairesDir);
      if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
      await saveSurvey(app.db, checked.survey, clock.now);
      return issueInvitations(app.db, app.secrets, checked.survey.definition.id, people, clock.now);
    },
    browser: () => new Browser(app),
    close: () => app.close(),
  };
}

export type FormFields = Record<string, string | string[]>;

export class Browser {
  readonly cookies = new Map<string, string>();
  last: LightMyRequestResponse | undefined;
  lastPage: LightMyRequestResponse | undefined;
  url = '';

  constructor(private readonly app: FastifyInstance) {}

  private remember(response: LightMyRequestResponse): void {
    for (const c of response.cookies as { name: string; value: string; expires?: Date }[]) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    this.last = response;
    if (response.headers['content-type']?.toString().startsWith('text/html')) this.lastPage = response;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("; ");
  }

  /** GET without following redirects. */
  async request(method: 'GET' | 'POST', url: string, form?: FormFields): Promise<LightMyRequestResponse> {
    const body = form ? new URLSearchParams(Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString() : undefined;
    const response = await this.app.inject({
      method,
      url,
      headers: { cookie: this.cookieHeader(), ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body !== undefined ? { payload: body } : {}),
    });
    this.url = url;
    this.remember(response);
    return response;
  }

  /** GET, following redirects like a browser (POST-redirect-GET included). */
  async open(url: string): Promise<LightMyRequestResponse> {
    let response = await this.request('GET', url);
    for (let hops = 0; response.statusCode >= 300 && response.statusCode < 400 && hops < 10; hops++) {
      response = await this.request('GET', String(response.headers.location));
    }
    return response;
  }

  /** Submits the form on the page last loaded, with its CSRF token and version. */
  async submit(fields: FormFields, action: 'next' | 'previous' | 'later' = 'next', page = this.lastPage): Promise<LightMyRequestResponse> {
    const doc = parse(page!.body);
    const form = doc.querySelector('form')!;
    const hidden = Object.fromEntries(form.querySelectorAll('input[type=hidden]').map((i) => [i.getAttribute('name')!, i.getAttribute('value') ?? '']));
    const response = await this.request('POST', form.getAttribute('action')!, { ...hidden, ...fields, _action: action });
    if (response.statusCode === 303) return this.open(String(response.headers.location));
    return response;
  }

  /** The fields of the page's form as a browser would send them: what the page shows, unchanged. */
  formAsShown(): FormFields {
    const fields: Record<string, string[]> = {};
    const add = (name: string | undefined, value: string) => {
      if (name) (fields[name] ??= []).push(value);
    };
    for (const field of this.document().querySelector('form')!.querySelectorAll('input, textarea, select')) {
      const name = field.getAttribute('name');
      const tag = field.tagName.toLowerCase();
      if (tag === 'textarea') {
        // The HTML parser drops one newline right after <textarea>.
        add(name, field.text.replace(/^\r?\n/, ''));
      } else if (tag === 'select') {
        const options = field.querySelectorAll('option');
        const chosen = options.find((o) => o.hasAttribute('selected')) ?? options[0];
        if (chosen) add(name, chosen.getAttribute('value') ?? chosen.text);
      } else {
        const type = (field.getAttribute('type') ?? 'text').toLowerCase();
        if (type === 'radio' || type === 'checkbox') {
          if (field.hasAttribute('checked')) add(name, field.getAttribute('value') ?? 'on');
        } else if (type !== 'submit' && type !== 'button') add(name, field.getAttribute('value') ?? '');
      }
    }
    return fields;
  }

  /** Submits exactly the same request as before (a double click or a replayed POST). */
  async replay(page: LightMyRequestResponse, fields: FormFields, action: 'next' | 'previous' = 'next'): Promise<LightMyRequestResponse> {
    return this.submit(fields, action, page);
  }

  document(): HTMLElement {
    return parse(this.lastPage!.body);
  }

  /** The id of the questionnaire page shown, from the form's action. */
  pageId(): string | undefined {
    return this.document().querySelector('form')?.getAttribute('action')?.match(/^\/q\/p\/(.+)$/)?.[1];
  }

  heading(): string {
    return this.document().querySelector('h1')?.text.trim() ?? '';
  }

  /** Enters with a typed code on the start page. */
  async typeCode(code: string): Promise<LightMyRequestResponse> {
    await this.open('/');
    return this.submit({ code });
  }
}

export { formatCode };

// A small HTTP client for benchmarks and fault tests: one cookie jar per respondent, the CSRF
// token and page version a browser would send, latency per request.
import { Agent, request } from 'node:http';

export interface Reply {
  status: number;
  location?: string;
  body: string;
  ms: number;
}

export class Respondent {
  readonly cookies = new Map<string, string>();
  csrf = '';
  version = 0;
  constructor(
    readonly port: number,
    readonly agent: Agent,
  ) {}

  send(method: 'GET' | 'POST', path: string, form?: Record<string, string | string[]>): Promise<Reply> {
    const body = form ? new URLSearchParams(Object.entries(form).flatMap(([k, v]) => [v].flat().map((x) => [k, x]))).toString() : undefined;
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          for (const c of [res.headers['set-cookie'] ?? []].flat()) {
            const [pair] = c.split(';');
            const at = pair!.indexOf('=');
            this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
          }
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started });
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** Reads the CSRF token and page version from a rendered form. */
  readForm(html: string): void {
    this.csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? this.csrf;
    const version = /name="_version" value="(\d+)"/.exec(html)?.[1];
    if (version !== undefined) this.version = Number(version);
  }

  /** Opens the link and moves past the welcome page, so that page H1 can be rendered and posted. */
  async enter(token: string): Promise<void> {
    const open = await this.send('GET', `/s/${token}`);
    if (open.status !== 303) throw new Error(`the link answered ${open.status}`);
    const welcome = await this.send('GET', '/q/p/welkom');
    this.readForm(welcome.body);
    const posted = await this.send('POST', '/q/p/welkom', { _csrf: this.csrf, _version: String(this.version), _action: 'next' });
    if (posted.status !== 303) throw new Error(`the welcome page answered ${posted.status}`);
    this.version++;
  }
}

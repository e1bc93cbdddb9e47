// Builds the Fastify app. It never listens and never reads the environment: main.ts does both,
// and tests call buildApp with their own config and inject requests.

import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AppConfig } from './config.ts';
import { uiText } from './i18n/ui.ts';
import bouncesPlugin from './plugins/bounces.ts';
import dbPlugin from './plugins/db.ts';
import mailerPlugin from './plugins/mailer.ts';
import securityPlugin from './plugins/security.ts';
import viewsPlugin from './plugins/views.ts';
import respondentRoutes from './routes/respondent/index.ts';
import adminRoutes from './routes/admin/index.ts';
import { adminText } from './i18n/admin.ts';

/**
 * Request logs show the route's pattern (`/q/p/:page`, `/s/:token`), never the URL: no code or
 * token, and no page id, so that a session's requests do not spell out its routing (whether
 * someone met aggression, sought support). Nor who asked: no IP address, no user agent.
 */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? '(no route)';
}

/**
 * Log times to the minute, and request ids that count nothing: at a finer resolution, or in the
 * order of a counter, the log would single out the request that submitted a questionnaire among
 * the commits of the database (docs/anonymity.md).
 */
const minuteTimestamp = () => `,"time":"${new Date().toISOString().slice(0, 16)}Z"`;
/** n proxies in front: the n closest hops of X-Forwarded-For are theirs, the one behind them the client's. */
const trustHops = (n: number) => (_address: string, hop: number) => hop < n;
const randomRequestId = () => randomBytes(8).toString('base64url');

/**
 * Fastify's request log lines, as said above: one line per request, without the URL or the time it
 * took to the millisecond (which too would tell a submit from a page).
 */
class RouteLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, route: routeOf(request), statusCode: reply.statusCode };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.info(line, 'request');
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.info({ method: request.method }, 'no such route');
  }
}

const STORAGE_UNAVAILABLE = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_CANTOPEN']);

function isStorageUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && [...STORAGE_UNAVAILABLE].some((c) => code === c || code.startsWith(`${c}_`));
}

export async function buildApp(config: AppConfig): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      config.logger === false
        ? false
        : {
            ...(typeof config.logger === 'object' ? config.logger : {}),
            timestamp: minuteTimestamp,
            serializers: {
              req: (req: FastifyRequest) => ({ method: req.method, route: routeOf(req) }),
            },
          },
    genReqId: randomRequestId,
    logController: new RouteLog(),
    // The client address, which rate limits key on, is the connection's, unless a proxy in front
    // is configured to be believed (TRUST_PROXY): then the address that proxy saw. Never simply
    // the left-most X-Forwarded-For entry, which the client writes.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : (config.trustProxy ?? false),
  });

  await app.register(dbPlugin, { config });
  await app.register(securityPlugin, { secureCookies: config.secureCookies });
  await app.register(viewsPlugin);

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    // The database cannot write (disk full, read-only, locked, I/O error): nothing of this request
    // was stored, and the respondent is told to try again later (503 with Retry-After).
    const status = isStorageUnavailable(error) ? 503 : error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status === 503) reply.header('retry-after', '120');
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    // A malformed, oversized or forged request gets a plain 400 (or its own 4xx), never a stack trace.
    const code = status < 500 && status !== 403 && status !== 429 ? 400 : status;
    if (request.url.startsWith('/admin')) {
      const t = adminText(request.cookies?.lang);
      return reply.code(code).adminView('admin/message.hbs', { t, title: status === 429 ? t.tooManyAttempts : status >= 500 ? 'Error' : 'Bad request', text: '' });
    }
    const ui = uiText(request.cookies?.lang ?? 'nl');
    const [title, text] =
      status === 429
        ? [ui.tooManyAttempts, '']
        : status === 503
          ? [ui.unavailableTitle, ui.unavailableText]
          : status >= 500
          ? [ui.serverErrorTitle, ui.serverErrorText]
          : [ui.badRequestTitle, ui.badRequestText];
    // After a failed save, back to the questionnaire (where the session resumes); else the start.
    return reply.code(code).view('pages/message.hbs', { ui, pageTitle: title, title, paragraphs: text ? [text] : [], link: { href: status === 503 ? '/q' : '/', label: ui.startTitle } });
  });
  app.setNotFoundHandler(async (request, reply) => {
    const ui = uiText(request.cookies?.lang ?? 'nl');
    return reply.code(404).view('pages/message.hbs', { ui, pageTitle: ui.notFoundTitle, title: ui.notFoundTitle, paragraphs: [], link: { href: '/', label: ui.startTitle } });
  });

  await app.register(respondentRoutes);
  await app.register(adminRoutes);
  await app.register(bouncesPlugin);
  await app.register(mailerPlugin);
  return app;
}

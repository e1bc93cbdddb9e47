// Security infrastructure: headers (CSP without inline scripts, no framing, no referrer that
// could carry a code), form bodies, cookies, CSRF tokens and rate limiting.
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import helmet from 'helmet';

export const FORM_BODY_LIMIT = 64 * 1024;

export default fp<{ secureCookies: boolean }>(async (app, { secureCookies }) => {
  // helmet itself, built once: @fastify/helmet builds the middleware again for every request,
  // which cost 4% of rendering a page (scripts/bench/load.ts).
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
  // Every form is application/x-www-form-urlencoded; nothing takes JSON or plain text, so those
  // bodies are refused (415, shown as a 400 page) instead of reaching a route.
  app.removeAllContentTypeParsers();
  await app.register(fastifyFormbody, { bodyLimit: FORM_BODY_LIMIT });
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies, signed: false },
  });
  await app.register(fastifyRateLimit, { global: false });
});

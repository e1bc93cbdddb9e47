// Handlebars views (templates/), with every file in templates/partials/ as a partial, and the
// static assets (templates/assets/) under /assets/.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import fp from 'fastify-plugin';
import Handlebars from 'handlebars';

const templatesDir = fileURLToPath(new URL('../../templates/', import.meta.url));

declare module 'fastify' {
  interface FastifyReply {
    adminView: FastifyReply['view'];
  }
}

// preventIndent: by default Handlebars indents every line a partial prints by the indentation of
// its call, the lines of a <textarea>'s content included, so a respondent's text of several lines
// came back with spaces added to each line after the first (and saving again stored them).
const compileOptions = { preventIndent: true };

export default fp(async (app) => {
  const partials = Object.fromEntries(
    readdirSync(`${templatesDir}partials`)
      .filter((f) => f.endsWith('.hbs'))
      .map((f) => [f.slice(0, -4), `partials/${f}`]),
  );
  // @fastify/view compiles pages with `options` and partials with `options.compileOptions`.
  const options = { partials, ...compileOptions, compileOptions };
  await app.register(fastifyView, {
    engine: { handlebars: Handlebars.create() },
    root: templatesDir,
    layout: 'layouts/main.hbs',
    options,
    // Templates are compiled once; restart the server after editing them.
    production: true,
  });
  // The admin pages have their own layout; @fastify/view takes one layout per registration.
  await app.register(fastifyView, {
    engine: { handlebars: Handlebars.create() },
    root: templatesDir,
    layout: 'layouts/admin.hbs',
    options,
    production: true,
    propertyName: 'adminView',
  });
  await app.register(fastifyStatic, { root: `${templatesDir}assets`, prefix: '/assets/', index: false, maxAge: '1h' });
});

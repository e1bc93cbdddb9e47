// Bounces that come back later (docs/fieldwork.md, "Bounces"). With BOUNCE_ADDRESS every mail
// gets a return path of its own (app.returnPaths, which the sender uses); with BOUNCE_SMTP_PORT
// the server also receives the delivery reports by SMTP, records them, and logs what each was
// about: the survey, the outbox row and the kind, never the address.
import fp from 'fastify-plugin';
import { ConfigError } from '../config.ts';
import { startBounceListener } from '../mail/bounce-listener.ts';
import { returnPaths, type ReturnPaths } from '../mail/return-path.ts';
import { receiveBounce } from '../usecases/bounces.ts';

declare module 'fastify' {
  interface FastifyInstance {
    returnPaths: ReturnPaths | undefined;
    /** The port the SMTP endpoint for reports listens on (BOUNCE_SMTP_PORT; tests ask for 0). */
    bounceListenerPort?: number;
  }
}

export default fp(async (app) => {
  const bounces = app.config.mail?.bounces;
  const paths = bounces ? returnPaths(app.secrets, bounces.address) : undefined;
  app.decorate('returnPaths', paths);
  if (!paths || !bounces?.listen) return;
  const { host, port } = bounces.listen;
  const listener = await startBounceListener({
    host,
    port,
    paths,
    name: new URL(app.config.publicUrl).hostname,
    receive: async (recipients, raw) => {
      const outcome = await receiveBounce(app.db, app.secrets, paths, recipients, raw, app.config.now());
      if ('ignored' in outcome) app.log.info({ reason: outcome.ignored }, 'mail to the bounce address ignored');
      else app.log.info({ survey: outcome.surveyId, outbox: outcome.outboxId, kind: outcome.recorded, status: outcome.status }, 'bounce recorded');
    },
    onError: (err) => app.log.error({ err }, 'bounce listener'),
  }).catch((e: unknown) => {
    const code = (e as { code?: string }).code;
    const why = code === 'EADDRINUSE' ? 'something else listens there' : code === 'EACCES' ? 'this process may not use that port (below 1024 needs the right to bind it; forward port 25 to a higher one)' : (code ?? (e as Error).message);
    throw new ConfigError(`BOUNCE_SMTP_PORT: cannot receive delivery reports on ${host}:${port}: ${why}`);
  });
  app.decorate('bounceListenerPort', listener.port);
  app.log.info(`receiving delivery reports for ${paths.address} by SMTP on ${host}:${listener.port}`);
  app.addHook('onClose', async () => listener.close());
});

// The sender inside the server process: every few seconds it closes surveys whose time has come,
// queues due mailings and sends what is due. Runs never overlap; closing the app ends the current
// run after the mail in flight (the rest stays queued) and closes the transport.
import fp from 'fastify-plugin';
import { createMailer } from '../mail/setup.ts';
import { runFieldwork } from '../usecases/fieldwork.ts';
import { stopSignal } from '../usecases/stop-signal.ts';

export default fp(async (app) => {
  const mail = app.config.mail;
  if (!mail || mail.senderIntervalMs <= 0) return;
  const { transport, templates } = createMailer(mail);
  let running: Promise<unknown> | undefined;
  // Pauses between mails (a minute each at 1 mail a minute) are cut short when the app closes.
  const stop = stopSignal();
  // Said once per survey and window, and once per reason mail cannot go out, not on every run:
  // the sender runs every few seconds.
  const toldWaiting = new Map<string, number>();
  const toldUnrenderable = new Map<string, string>();
  let toldUnavailable: string | undefined;
  const tick = () => {
    if (running) return;
    running = runFieldwork({
      db: app.db,
      secrets: app.secrets,
      transport,
      templates,
      questionnaires: app.questionnaires,
      publicUrl: app.config.publicUrl,
      now: app.config.now,
      sleep: stop.sleep,
      log: app.log,
      staleClaimMs: mail.staleClaimMs ?? 60_000,
      stopping: stop.stopping,
      marks: app.ledgerMarks,
      returnPaths: app.returnPaths,
    })
      .then((report) => {
        if (report.sent + report.skipped + report.failed + report.bounced + report.retried > 0) app.log.info({ report }, 'sender run');
        if (report.unavailable !== toldUnavailable) {
          if (report.unavailable) app.log.error(`mail cannot go out, it waits and is tried again every run: ${report.unavailable}`);
          else app.log.info('mail goes out again');
          toldUnavailable = report.unavailable;
        }
        for (const [survey, reason] of Object.entries(report.unrenderable)) {
          if (toldUnrenderable.get(survey) === reason) continue;
          toldUnrenderable.set(survey, reason);
          app.log.error({ survey }, `mail of this survey waits until its template is mended (tried again every run): ${reason}`);
        }
        for (const survey of toldUnrenderable.keys()) if (!(survey in report.unrenderable)) toldUnrenderable.delete(survey);
        for (const [survey, { due, opensAt }] of Object.entries(report.waiting)) {
          if (toldWaiting.get(survey) === opensAt.getTime()) continue;
          toldWaiting.set(survey, opensAt.getTime());
          app.log.info({ survey, due, opensAt }, 'due mail waits for the send window');
        }
      })
      .catch((err: unknown) => app.log.error({ err }, 'sender run failed'))
      .finally(() => {
        running = undefined;
      });
  };
  app.addHook('onReady', async () => {
    app.log.info(`sending mail to ${transport.description}`);
    tick();
  });
  const timer = setInterval(tick, mail.senderIntervalMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    // A long batch (10,000 mails at 600 a minute take 17 minutes) must not hold up a shutdown:
    // the run ends after the mail in flight, and the rest goes out after the restart.
    stop.stop();
    await running;
    transport.close();
  });
});

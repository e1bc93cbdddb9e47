// /admin/preview: a stored questionnaire version as respondents will see it, for its authors
// (analysts), with sample values of their choosing, a jump to any page and why each page and
// question is shown (usecases/preview.ts). Nothing is written but the audit line.

import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { audit } from '../../db/audit.ts';
import { listQuestionnaireVersions } from '../../db/questionnaire-versions.ts';
import { environment, renderText, textIn, type Questionnaire } from '../../domain/questionnaire/index.ts';
import { bodyToForm } from '../../domain/questionnaire/form-values.ts';
import { fill, uiText } from '../../i18n/ui.ts';
import { decodeState, encodeState, previewItems, previewPage, previewSubmit, type PreviewPage, type PreviewState } from '../../usecases/preview.ts';
import { questionnaireOnPaper } from '../../usecases/paper.ts';
import { buildItems, errorSummary } from '../respondent/page-view.ts';

const Hash = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/) });
const PageParams = Hash.extend({ page: z.string().max(100) });

const WORDS = {
  banner: 'Voorbeeld, niet de echte vragenlijst.',
  nothingStored: 'Er wordt niets bewaard. Kies de steekproefwaarden en begin opnieuw, of spring naar een pagina.',
  restart: 'Opnieuw beginnen',
  jumpLabel: 'Naar pagina',
  print: 'De hele vragenlijst op papier',
  offRoute: 'niet op deze route',
  hiddenLabel: 'Niet getoond bij deze antwoorden',
  onlyIf: 'Alleen als',
  endTitle: 'Einde van de vragenlijst',
  endText: 'Hier zou de respondent de slottekst zien en zou de respons worden bewaard. In het voorbeeld wordt niets bewaard.',
};

/** The list of versions, in the admin layout (the admin routes know its account line and texts). */
type ListPage = (request: FastifyRequest, reply: FastifyReply, versions: { hash: string; questionnaire_id: string; version: string; created: string }[]) => unknown;

export default async function previewRoutes(app: FastifyInstance, { guards, listPage }: { guards: preHandlerAsyncHookHandler[]; listPage: ListPage }): Promise<void> {
  const questionnaireOf = async (hash: string): Promise<Questionnaire | undefined> => app.questionnaires.byHash(hash).catch(() => undefined);

  app.get('/admin/preview', { preHandler: guards }, async function previewList(request, reply) {
    const versions = (await listQuestionnaireVersions(app.db)).map((v) => ({ ...v, created: v.created_at.slice(0, 10) }));
    return listPage(request, reply, versions);
  });

  /** The preview page, in the respondents' own page template and layout, with the banner above. */
  const render = (reply: FastifyReply, q: Questionnaire, hash: string, state: PreviewState, page: PreviewPage | undefined, status = 200) => {
    const ui = uiText('nl');
    const encoded = encodeState(state);
    const base = `/admin/preview/${hash}`;
    const sampleFields = [...q.sample.values()].map((f) => ({
      id: f.id,
      label: textIn(f.def.label, 'nl'),
      options: f.options.map((o) => ({ code: o.code, label: textIn(o.label, 'nl'), selected: state.sample[f.id] === o.code })),
    }));
    const route = new Set(page?.route ?? q.blocks.map((b) => b.id));
    const preview = {
      ...WORDS,
      base,
      sampleFields,
      firstPage: q.blocks[0]!.id,
      pages: q.blocks.map((b) => ({ id: b.id, href: `${base}?page=${encodeURIComponent(b.id)}&state=${encoded}`, current: b.id === page?.view.block.id, onRoute: route.has(b.id) })),
      pageWhy: page?.pageWhy,
      hidden: page?.hidden ?? [],
      ended: page === undefined,
    };
    if (!page) return reply.code(status).view('pages/preview.hbs', { ui, surveyTitle: renderText(q, q.def.title, 'nl', environment(q, {}, state.sample)), pageTitle: WORDS.endTitle, preview });
    const { block, pages } = page.view;
    const env = environment(q, page.view.before, state.sample);
    const ctx = { q, block, env, form: page.view.form, errors: page.view.errors, lang: 'nl', ui, items: previewItems(block, env) };
    const items = buildItems(ctx).map((item) => ({ ...item, why: page.why[item.id] }));
    const position = pages.findIndex((p) => p.id === block.id);
    return reply.code(status).view('pages/preview.hbs', {
      ui,
      surveyTitle: renderText(q, q.def.title, 'nl', env),
      pageTitle: block.def.title ? renderText(q, block.def.title, 'nl', env) : `${WORDS.banner} ${block.id}`,
      items,
      errorSummary: errorSummary(ctx, items),
      progress: { percent: page.view.progress, label: fill(ui.progress, { percent: page.view.progress }) },
      action: `${base}/p/${encodeURIComponent(block.id)}`,
      version: 0,
      previewState: encoded,
      csrfToken: reply.generateCsrf(),
      canGoBack: position > 0,
      isLast: position === pages.length - 1,
      preview,
    });
  };

  app.get('/admin/preview/:hash', { preHandler: guards }, async function previewShow(request, reply) {
    const params = Hash.safeParse(request.params);
    const q = params.success ? await questionnaireOf(params.data.hash) : undefined;
    if (!params.success || !q) return reply.code(404).send('no such questionnaire version');
    const query = request.query as Record<string, string | undefined>;
    const state = decodeState(query.state);
    // Sample values chosen in the form start afresh; without them, the first option of each field.
    const chosen = Object.entries(query).filter(([k]) => k.startsWith('s.'));
    if (chosen.length > 0) state.answers = {};
    for (const field of q.sample.values()) {
      const v = query[`s.${field.id}`];
      if (v !== undefined && field.options.some((o) => o.code === v)) state.sample[field.id] = v;
      if (state.sample[field.id] === undefined && field.options[0]) state.sample[field.id] = field.options[0].code;
    }
    if (query.page === '_end') return render(reply, q, params.data.hash, state, undefined);
    const page = previewPage(q, state, query.page ?? q.blocks[0]!.id);
    if (!page) return reply.code(404).send('no such page');
    if (!query.page) await audit(app.db, { actor: request.account?.email ?? 'anonymous', action: 'previewed questionnaire', detail: `${q.id} ${q.version}` }, app.config.now());
    return render(reply, q, params.data.hash, state, page);
  });

  // The same version on paper (survey print), for the client's sign-off: print it or save it as PDF.
  app.get('/admin/preview/:hash/print', { preHandler: guards }, async function previewPrint(request, reply) {
    const params = Hash.safeParse(request.params);
    const q = params.success ? await questionnaireOf(params.data.hash) : undefined;
    if (!params.success || !q) return reply.code(404).send('no such questionnaire version');
    const lang = (request.query as { lang?: string }).lang === 'en' ? 'en' : 'nl';
    // The document carries its own (print) stylesheet inline, so that it also works saved as a
    // file; it holds no script and only escaped text, so its inline style is all it is allowed.
    reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    return reply.type('text/html; charset=utf-8').send(questionnaireOnPaper(q, lang));
  });

  app.post('/admin/preview/:hash/p/:page', { preHandler: [app.csrfProtection, ...guards] }, async function previewPost(request, reply) {
    const params = PageParams.safeParse(request.params);
    const q = params.success ? await questionnaireOf(params.data.hash) : undefined;
    if (!params.success || !q) return reply.code(404).send('no such questionnaire version');
    const form = bodyToForm(request.body);
    const state = decodeState(form._state?.[0]);
    const step = previewSubmit(q, state, params.data.page, form, form._action?.[0] === 'previous' ? 'previous' : 'next');
    if (!step) return reply.code(404).send('no such page');
    if (step.kind === 'invalid') return render(reply, q, params.data.hash, state, step.page, 422);
    return reply.redirect(`/admin/preview/${params.data.hash}?page=${encodeURIComponent(step.pageId ?? '_end')}&state=${encodeState(step.state)}`, 303);
  });
}

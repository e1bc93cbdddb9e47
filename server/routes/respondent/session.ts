// The respondent's session: an encrypted cookie holding the invitee and the draft key. Nothing
// about sessions is stored in the database, so a copy of it links no draft to anyone.
import type { FastifyReply, FastifyRequest } from 'fastify';

const COOKIE = 'session';
const LIFETIME_MS = 12 * 60 * 60 * 1000;

export interface SessionPayload {
  invitee: number;
  draftKey: string;
  expires: number;
  /** The draft's session round when this session started: ending sessions raises it (endSessions). */
  round: number;
  /**
   * The draft version this session saved last: a page posted with an older version came from
   * this session's own history (Back) if nobody else saved since (usecases/page-flow.ts).
   */
  wrote?: number;
}

export function startSession(request: FastifyRequest, reply: FastifyReply, invitee: number, draftKey: string, round: number): void {
  if (request.cookies[LEFT]) reply.clearCookie(LEFT, { path: '/' });
  setSession(request, reply, { invitee, draftKey, expires: request.server.config.now().getTime() + LIFETIME_MS, round });
}

/** After a save: the session notes the version it wrote (same expiry). */
export function noteWritten(request: FastifyRequest, reply: FastifyReply, session: SessionPayload, version: number): void {
  setSession(request, reply, { ...session, wrote: version });
}

function setSession(request: FastifyRequest, reply: FastifyReply, payload: SessionPayload): void {
  const app = request.server;
  reply.setCookie(COOKIE, app.secrets.encrypt('session-cookie', JSON.stringify(payload)), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: app.config.secureCookies,
  });
}

// Opened session cookies, by their exact text, per server secret: a respondent sends the same
// cookie with every page, and opening it (AES-GCM) cost 47 us of a 500 us page in the middle of
// a request, against 9 us in a loop, most of it setting up the cipher. Only cookies that opened
// are kept, at most OPENED_MAX (the oldest go first), so garbage cookies cannot fill it.
const OPENED_MAX = 20_000;
const openedBySecrets = new WeakMap<object, Map<string, SessionPayload>>();

function openCookie(request: FastifyRequest, sealed: string): SessionPayload | undefined {
  const secrets = request.server.secrets;
  let opened = openedBySecrets.get(secrets);
  if (!opened) openedBySecrets.set(secrets, (opened = new Map()));
  const known = opened.get(sealed);
  if (known) return known;
  const json = secrets.decrypt('session-cookie', sealed);
  if (!json) return undefined;
  const payload = Object.freeze(JSON.parse(json) as SessionPayload);
  if (opened.size >= OPENED_MAX) opened.delete(opened.keys().next().value!);
  opened.set(sealed, payload);
  return payload;
}

export function readSession(request: FastifyRequest): SessionPayload | undefined {
  const payload = readEndedSession(request);
  return payload && payload.expires > request.server.config.now().getTime() ? payload : undefined;
}

/**
 * The session as the cookie holds it, also once it has expired: whose page it was. Only to keep
 * the answers of a page posted after the session ran out until the person types their code again.
 */
export function readEndedSession(request: FastifyRequest): SessionPayload | undefined {
  const sealed = request.cookies[COOKIE];
  return sealed ? openCookie(request, sealed) : undefined;
}

export function endSession(reply: FastifyReply): void {
  reply.clearCookie(COOKIE, { path: '/' });
}

/**
 * "Save and continue later" ends the session on purpose; a page opened after it (Back, a
 * bookmark) then says the answers are kept and how to come back, not that a session expired.
 * The cookie says only that: nobody's name, code or draft.
 */
const LEFT = 'left';

export function endSessionForLater(request: FastifyRequest, reply: FastifyReply): void {
  endSession(reply);
  reply.setCookie(LEFT, '1', { path: '/', httpOnly: true, sameSite: 'lax', secure: request.server.config.secureCookies, maxAge: LIFETIME_MS / 1000 });
}

export function leftForLater(request: FastifyRequest): boolean {
  return request.cookies[LEFT] === '1';
}

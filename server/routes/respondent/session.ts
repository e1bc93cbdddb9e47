// The respondent's session: an encrypted cookie holding the invitee and the draft key. Nothing
// about sessions is stored in the database, so a copy of it links no draft to anyone.
import type { FastifyReply, FastifyRequest } from 'fastify';

const COOKIE = 'session';
const LIFETIME_MS = 12 * 60 * 60 * 1000;

interface SessionPayload {
  invitee: number;
  draftKey: string;
  expires: number;
}

export function startSession(request: FastifyRequest, reply: FastifyReply, invitee: number, draftKey: string): void {
  const app = request.server;
  const payload: SessionPayload = { invitee, draftKey, expires: app.config.now().getTime() + LIFETIME_MS };
  reply.setCookie(COOKIE, app.secrets.encrypt('session-cookie', JSON.stringify(payload)), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: app.config.secureCookies,
  });
}

export function readSession(request: FastifyRequest): SessionPayload | undefined {
  const sealed = request.cookies[COOKIE];
  if (!sealed) return undefined;
  const json = request.server.secrets.decrypt('session-cookie', sealed);
  if (!json) return undefined;
  const payload = JSON.parse(json) as SessionPayload;
  return payload.expires > request.server.config.now().getTime() ? payload : undefined;
}

export function endSession(reply: FastifyReply): void {
  reply.clearCookie(COOKIE, { path: '/' });
}

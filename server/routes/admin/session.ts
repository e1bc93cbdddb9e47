// Admin sessions: a random token in an HttpOnly, SameSite=Strict cookie scoped to /admin; the
// database keeps only its sha256, so a copy of the database opens no session. Sessions end
// after 8 hours, at sign-out, or when the account is disabled.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { deleteExpiredSessions, deleteSession, insertSession, sessionAccount, type AdminAccount } from '../../db/admin-accounts.ts';

const COOKIE = 'admin_session';
const LIFETIME_MS = 8 * 60 * 60 * 1000;

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function startAdminSession(request: FastifyRequest, reply: FastifyReply, email: string): Promise<void> {
  const app = request.server;
  const token = randomBytes(32).toString('base64url');
  // Sign-ins are rare: a good moment to drop the sessions that ended.
  await deleteExpiredSessions(app.db, app.config.now());
  await insertSession(app.db, hash(token), email, new Date(app.config.now().getTime() + LIFETIME_MS));
  reply.setCookie(COOKIE, token, { path: '/admin', httpOnly: true, sameSite: 'strict', secure: app.config.secureCookies });
}

export async function currentAccount(request: FastifyRequest): Promise<AdminAccount | undefined> {
  const token = request.cookies[COOKIE];
  if (!token) return undefined;
  return sessionAccount(request.server.db, hash(token), request.server.config.now());
}

export async function endAdminSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const token = request.cookies[COOKIE];
  if (token) await deleteSession(request.server.db, hash(token));
  reply.clearCookie(COOKIE, { path: '/admin' });
}

// `survey admin add|list|disable`: the accounts for /admin. Passwords are read from the terminal
// (or stdin), hashed with scrypt, and never printed or logged.

import { disableAccount, listAccounts, upsertAccount } from '../../server/db/admin-accounts.ts';
import { audit } from '../../server/db/audit.ts';
import type { AdminRole } from '../../server/db/schema.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../../server/security/passwords.ts';
import type { CliContext } from './fieldwork.ts';
import { cliActor } from './actor.ts';

const ROLES: readonly AdminRole[] = ['fieldwork', 'analyst'];
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export async function adminAddCommand(ctx: CliContext, email: string, role: string): Promise<number> {
  const address = email.trim().toLowerCase();
  if (!EMAIL.test(address)) {
    ctx.io.err(`"${email}" is not an email address`);
    return 2;
  }
  if (!(ROLES as readonly string[]).includes(role)) {
    ctx.io.err(`unknown role "${role}": use fieldwork (response per stratum, mailings) or analyst (also response data and exports)`);
    return 2;
  }
  if (!ctx.io.readSecret) {
    ctx.io.err('cannot read a password here');
    return 1;
  }
  const password = await ctx.io.readSecret(`password for ${address}: `);
  if (password.length < MIN_PASSWORD_LENGTH) {
    ctx.io.err(`the password is too short: at least ${MIN_PASSWORD_LENGTH} characters`);
    return 1;
  }
  const now = ctx.config.now();
  const outcome = await upsertAccount(ctx.db, address, await hashPassword(password), role as AdminRole, now);
  await audit(ctx.db, { actor: cliActor(), action: outcome === 'added' ? 'account added' : 'account updated', detail: `${address} (${role})` }, now);
  ctx.io.out(`${outcome} ${address} as ${role}; sign in at ${ctx.config.publicUrl}/admin`);
  return 0;
}

export async function adminListCommand(ctx: CliContext): Promise<number> {
  const accounts = await listAccounts(ctx.db);
  if (accounts.length === 0) ctx.io.out('no accounts yet: survey admin add <email> --role fieldwork|analyst');
  for (const a of accounts) ctx.io.out(`${a.email.padEnd(32)} ${a.role.padEnd(10)} ${a.disabled_at ? `disabled ${a.disabled_at.slice(0, 10)}` : `since ${a.created_at.slice(0, 10)}`}`);
  return 0;
}

export async function adminDisableCommand(ctx: CliContext, email: string): Promise<number> {
  const address = email.trim().toLowerCase();
  const now = ctx.config.now();
  if (!(await disableAccount(ctx.db, address, now))) {
    ctx.io.err(`there is no account ${address}`);
    return 1;
  }
  await audit(ctx.db, { actor: cliActor(), action: 'account disabled', detail: address }, now);
  ctx.io.out(`disabled ${address}; its sessions have ended`);
  return 0;
}

import { userInfo } from 'node:os';

/** Who ran a command, for the audit log: the operating-system user. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

// What an install prefix (the folder holding releases/, current and .pyrelo/, README "Deploy over
// SSH") may be, wherever one comes in: `hosts add --prefix`, `deploy|releases|rollback --prefix`,
// the server's Install request, `agent release … --prefix`. A `..` segment is refused rather than
// resolved: `/opt/../etc` is a prefix nobody meant, and resolving it would hide where pyrelo writes
// (issue 13 item 14). What is left is normalised (`//`, `/./` and a trailing `/` removed), so one
// folder has one spelling in the deployment records.

import { posix } from 'node:path';

/** Longer prefixes are refused: a release folder under it must still fit PATH_MAX. */
export const MAX_PREFIX_LENGTH = 1024;

/** Why `prefix` (absolute, as given) cannot be an install prefix, or null when it can. */
export function installPrefixProblem(prefix: string): string | null {
  if (!prefix.startsWith('/')) return 'expected an absolute path';
  if (prefix.length > MAX_PREFIX_LENGTH) return `longer than ${MAX_PREFIX_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(prefix)) return 'holds a control character';
  if (prefix.split('/').includes('..')) return 'holds a ".." segment (give the folder itself)';
  if (posix.normalize(prefix) === '/') return 'the root folder cannot be a prefix';
  return null;
}

/** `prefix` in its one spelling: `/opt//pyrelo/./app/` is `/opt/pyrelo/app`. Check installPrefixProblem first. */
export function normalizeInstallPrefix(prefix: string): string {
  const normal = posix.normalize(prefix);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** The prefix in its one spelling, or throws `refuse(what, problem)`; `what` names the input in the message. */
export function checkedInstallPrefix<E extends Error>(
  prefix: string,
  what: string,
  refuse: (what: string, problem: string) => E,
): string {
  const problem = installPrefixProblem(prefix);
  if (problem !== null)
    throw refuse(`${what} ${JSON.stringify(prefix.length > 80 ? `${prefix.slice(0, 80)}…` : prefix)}`, problem);
  return normalizeInstallPrefix(prefix);
}

// The locales a bundle needs (manifest `locales`: declared with --locale, or set by the smoke run)
// against those a host has compiled (issue 19). glibc reads locale data from the host in both libc
// modes; a name the host has not compiled makes setlocale fail (README, "Locales"). Measured in the
// lab (test/builder/host-locales.test.ts): de_DE.UTF-8 sets where the root's localedef compiled it,
// with the host's glibc and with the bundled one, and fails where it did not.
// A declared locale the host lacks is a warning (the application may fall back); one the smoke run
// set is an error: the smoke command itself fails there.

import type { LocaleNeed } from '../bundle/manifest.js';
import { hostHasLocale } from '../bundle/locale-name.js';

export interface LocaleProblem {
  readonly name: string;
  readonly severity: 'warning' | 'error';
  readonly message: string;
}

const LISTED = 8;

function hostList(compiled: readonly string[]): string {
  if (compiled.length === 0) return 'it has none compiled';
  const shown = compiled.slice(0, LISTED).join(', ');
  return `it has ${shown}${compiled.length > LISTED ? ` and ${compiled.length - LISTED} more` : ''}`;
}

/**
 * One problem per needed locale the host lacks. `compiled`: the host's compiled locales as named on
 * disk; `glibc`: the version that runs setlocale (the host's, or the bundled one), for C.UTF-8.
 */
export function localeProblems(
  needs: readonly LocaleNeed[],
  compiled: readonly string[],
  glibc: string | null,
): LocaleProblem[] {
  return needs
    .filter((n) => !hostHasLocale(compiled, n.name, glibc))
    .map((n) => ({
      name: n.name,
      severity: n.smoke ? 'error' : 'warning',
      message:
        `locale ${n.name} is not compiled on this host (${hostList(compiled)}): ` +
        (n.smoke ? "the smoke command's setlocale fails" : 'setlocale fails') +
        '; compile it with localedef or locale-gen',
    }));
}

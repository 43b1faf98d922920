// Locale names as glibc's setlocale takes them (issue 19): language[_territory][.codeset][@modifier],
// or C / POSIX. glibc compares the codeset normalised (lower case, letters and digits only, "iso"
// before an all-digit one: "UTF-8" -> "utf8"), so `de_DE.UTF-8` asked for is `de_DE.utf8` as
// localedef names it in the locale-archive (README, "What a `--libc bundle` bundle can and cannot
// use from the host").

const LOCALE_NAME = /^(?:C|POSIX|[a-z]{2,3}(?:_[A-Z]{2}|_\d{3})?)(?:\.[A-Za-z0-9_-]{1,32})?(?:@[A-Za-z0-9_-]{1,32})?$/;
const MAX_LOCALE_NAME = 80;

/** Why `name` is not a locale name glibc's setlocale takes, or null. */
export function localeNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty';
  if (name.length > MAX_LOCALE_NAME) return `longer than ${MAX_LOCALE_NAME} characters`;
  if (!LOCALE_NAME.test(name))
    return 'not a locale name (language[_TERRITORY][.codeset][@modifier], such as de_DE.UTF-8 or C.UTF-8)';
  return null;
}

/** glibc's _nl_normalize_codeset: letters lower-cased, digits kept, the rest dropped; "iso" before digits only. */
function normalizeCodeset(codeset: string): string {
  const kept = codeset.toLowerCase().replace(/[^a-z0-9]/g, '');
  return /^\d+$/.test(kept) ? `iso${kept}` : kept;
}

/** The name as glibc looks it up in the locale-archive: its codeset normalised. */
export function normalizeLocale(name: string): string {
  const match = /^([^.@]*)(?:\.([^@]*))?(@.*)?$/.exec(name);
  if (match === null) return name;
  const [, base, codeset, modifier] = match;
  return `${base}${codeset === undefined ? '' : `.${normalizeCodeset(codeset)}`}${modifier ?? ''}`;
}

/**
 * C and POSIX are compiled into every glibc; C.UTF-8 into glibc 2.35 and later (measured: glibc 2.36
 * sets it with LOCPATH naming an empty folder, where no compiled locale is found).
 */
export function isBuiltInLocale(name: string, glibc: string | null): boolean {
  if (name === 'C' || name === 'POSIX') return true;
  if (glibc === null || normalizeLocale(name) !== 'C.utf8') return false;
  const [major = 0, minor = 0] = glibc.split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 35);
}

/**
 * Whether setlocale finds `name` on a host whose compiled locales are `compiled` (as named on disk),
 * run by glibc `glibc` (the host's, or the bundled one with --libc bundle).
 */
export function hostHasLocale(compiled: readonly string[], name: string, glibc: string | null): boolean {
  if (isBuiltInLocale(name, glibc)) return true;
  const wanted = normalizeLocale(name);
  return compiled.some((c) => c === name || normalizeLocale(c) === wanted);
}

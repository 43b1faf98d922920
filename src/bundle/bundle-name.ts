// What a bundle may be called. The name becomes part of file and folder names (the release folder
// `<name>-<digest>` and the default prefix `/opt/pyrelo/<name>` of `pyrelo deploy`), is printed
// inside the `.run` installer's shell script and in every listing, so a name from outside (a
// pyproject.toml, a wheel, --prompt) is checked before it is used, and bounded in length.

/** A bundle name usable in a folder name: no `/`, no leading dot, nothing a shell would trip on. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * A release folder is `<name>-<12 hex digits>`, and its temporary and broken copies add about 40
 * characters: 128 keeps all of them well inside a file name's 255 bytes (NAME_MAX).
 */
export const MAX_RELEASE_NAME = 128;

export function isReleaseName(name: string): boolean {
  return name.length <= MAX_RELEASE_NAME && NAME.test(name);
}

/**
 * Longest name a build accepts: one that can name a release folder. Every project on PyPI but one
 * joke name is shorter.
 */
export const MAX_BUNDLE_NAME = MAX_RELEASE_NAME;

/** A project name as the packaging specifications define it ([project] name, Name: in METADATA). */
const PROJECT_NAME = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/;

/** PEP 503's normalized form: `Foo_Bar.baz` and `foo-bar-baz` name the same project. */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** The name quoted for a one-line error: control characters escaped, a long name shortened. */
export function quoteName(name: string): string {
  const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name;
  return `${JSON.stringify(shown)}${name.length > 60 ? ` (${name.length} characters)` : ''}`;
}

/** Why `name` cannot name a bundle built from a project, or null when it can. */
export function projectNameProblem(name: string): string | null {
  if (name.length > MAX_BUNDLE_NAME) return `longer than ${MAX_BUNDLE_NAME} characters`;
  if (!PROJECT_NAME.test(name))
    return 'not a project name (letters, digits, ".", "_" and "-", starting and ending with a letter or digit)';
  return null;
}

/**
 * Why `name` cannot name a bundle at all, or null. Wider than a project name: --prompt and entry
 * point names (used when no project names the bundle) may also hold `+`, as release folders may.
 */
export function bundleNameProblem(name: string): string | null {
  if (name.length > MAX_BUNDLE_NAME) return `longer than ${MAX_BUNDLE_NAME} characters`;
  if (!isReleaseName(name))
    return 'not usable as a bundle name (letters, digits, ".", "_", "+" and "-", starting with a letter or digit)';
  return null;
}

/**
 * What a manifest read from anywhere must hold. Looser than what a build writes, so that bundles
 * built before names were checked (named after a folder or --prompt) stay readable; what could
 * never be safe in a file name or on a terminal is refused.
 */
export function manifestNameProblem(name: string): string | null {
  if (name === '' || name === '.' || name === '..') return 'empty, "." or ".."';
  if (name.length > 255) return 'longer than 255 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/]/.test(name)) return 'holds "/" or a control character';
  return null;
}

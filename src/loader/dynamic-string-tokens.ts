// docs/loader.md section 2.
// Dynamic string tokens ($ORIGIN, $LIB, $PLATFORM) and search path lists, as glibc's
// elf/dl-load.c does it (is_dst, _dl_dst_substitute, fillin_rpath).

export interface TokenValues {
  /** The directory of the object whose string is expanded; null when unknown. */
  readonly origin: string | null;
  readonly lib: string;
  readonly platform: string;
}

const TOKENS = ['ORIGIN', 'PLATFORM', 'LIB'] as const;
type Token = (typeof TOKENS)[number];

function isIdentifierChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

/**
 * is_dst(): the length of the token reference at `input` (after the `$`), or 0. `${NAME}` and
 * `$NAME` both count; the unbraced form only when no identifier character follows.
 */
function matchToken(input: string, at: number, token: Token): number {
  const curly = input[at] === '{';
  const start = curly ? at + 1 : at;
  if (!input.startsWith(token, start)) return 0;
  const next = input[start + token.length];
  if (curly) return next === '}' ? token.length + 2 : 0;
  return isIdentifierChar(next) ? 0 : token.length;
}

export function containsToken(value: string): boolean {
  for (let i = value.indexOf('$'); i !== -1; i = value.indexOf('$', i + 1)) {
    if (TOKENS.some((token) => matchToken(value, i + 1, token) > 0)) return true;
  }
  return false;
}

/**
 * _dl_dst_substitute(): expands every known token. Returns null when a known token has no value
 * (ld.so then drops the whole element). Unknown `$...` sequences stay literal.
 */
export function expandTokens(value: string, values: TokenValues): string | null {
  let out = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c !== '$') {
      out += c;
      i += 1;
      continue;
    }
    let replaced = false;
    for (const token of TOKENS) {
      const length = matchToken(value, i + 1, token);
      if (length === 0) continue;
      const replacement = token === 'ORIGIN' ? values.origin : token === 'LIB' ? values.lib : values.platform;
      if (replacement === null || replacement === '') return null;
      out += replacement;
      i += 1 + length;
      replaced = true;
      break;
    }
    if (!replaced) {
      out += '$';
      i += 1;
    }
  }
  return out;
}

/**
 * fillin_rpath(): splits a search path list into directories. Each element is expanded; one that
 * expands to nothing is dropped; trailing slashes are removed; a literally empty element stays as
 * '' and means the current directory; a directory already in this list is not added again.
 * Returned directories carry no trailing slash, except the root itself ('/').
 */
export function splitSearchPath(list: string, separators: RegExp, values: TokenValues): string[] {
  const dirs: string[] = [];
  for (const element of list.split(separators)) {
    let dir = '';
    if (element !== '') {
      const expanded = expandTokens(element, values);
      if (expanded === null || expanded === '') continue;
      dir = expanded.replace(/\/+$/, '');
      if (dir === '') dir = '/';
    }
    if (!dirs.includes(dir)) dirs.push(dir);
  }
  return dirs;
}

/** Joins a search directory and a file name the way open_path() builds its buffer. */
export function joinSearchPath(dir: string, name: string): string {
  if (dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

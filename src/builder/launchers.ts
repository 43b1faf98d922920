// Step "launchers": with --libc host the interpreter is the real ELF with an $ORIGIN RUNPATH and
// needs no wrapper. Scripts (pip's, console scripts, --entry ones) must not name the build host in
// their shebang: they get the sh/Python polyglot header distlib uses for long shebangs, which finds
// the interpreter next to the script wherever the bundle is. `bin/activate` puts bin/ on PATH.

import { chmodSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildInputError } from './errors.js';

/**
 * sh reads `'''exec' "…/python3.11" "$0" "$@"` as exec; Python reads the first two lines after the
 * shebang as a string. realpath so that a symlink to the script (/usr/local/bin/app) still finds
 * the bundle. No `--` after realpath: busybox's realpath takes it for a file name.
 */
export function relocatableHeader(interpreter: string): string {
  return `#!/bin/sh\n'''exec' "$(dirname -- "$(realpath "$0")")/${interpreter}" "$0" "$@"\n' '''\n`;
}

export interface EntryPoint {
  readonly name: string;
  readonly module: string;
  readonly func: string;
}

const ENTRY = /^([A-Za-z0-9][A-Za-z0-9._-]*)=([A-Za-z_][\w.]*):([A-Za-z_][\w.]*)$/;

export function parseEntryPoint(text: string): EntryPoint {
  const match = ENTRY.exec(text);
  if (match === null) throw new BuildInputError(`--entry ${text}`, 'expected NAME=module:function');
  return { name: match[1]!, module: match[2]!, func: match[3]! };
}

/** Rewrites the shebang of every script in bin/ that names a build path. Returns the names. */
export function rewriteShebangs(bundle: string, buildPaths: readonly string[], interpreter: string): string[] {
  const rewritten: string[] = [];
  const bin = join(bundle, 'bin');
  for (const name of readdirSync(bin).sort()) {
    const path = join(bin, name);
    if (!lstatSync(path).isFile()) continue;
    const text = readFileSync(path, 'latin1');
    if (!text.startsWith('#!')) continue;
    const lines = text.split('\n');
    // pip's own long-shebang form: #!/bin/sh, then '''exec' "/abs/python" "$0" "$@", then ' '''
    const polyglot = lines[0] === '#!/bin/sh' && (lines[1] ?? '').startsWith("'''exec'");
    const header = polyglot ? lines.slice(0, 3).join('\n') : lines[0]!;
    if (!buildPaths.some((p) => header.includes(p)) || !/python/.test(header)) continue;
    const body = lines.slice(polyglot ? 3 : 1).join('\n');
    writeFileSync(path, Buffer.from(relocatableHeader(interpreter) + body, 'latin1'));
    rewritten.push(name);
  }
  return rewritten;
}

export function writeEntryPoint(bundle: string, entry: EntryPoint, interpreter: string): void {
  const path = join(bundle, 'bin', entry.name);
  const [head] = entry.func.split('.');
  const body =
    `# -*- coding: utf-8 -*-\n# Entry point written by pyrelo build.\nimport sys\nfrom ${entry.module} import ` +
    `${head}\nif __name__ == "__main__":\n    sys.exit(${entry.func}())\n`;
  writeFileSync(path, relocatableHeader(interpreter) + body);
  chmodSync(path, 0o755);
}

/** For bash and zsh (which know the sourced file's path); other shells set PYRELO_BUNDLE first. */
export function activateScript(prompt: string): string {
  return `# Source this file from bash or zsh: . /path/to/bundle/bin/activate
# Other shells: PYRELO_BUNDLE=/path/to/bundle . /path/to/bundle/bin/activate
if [ -n "\${BASH_SOURCE:-}" ]; then _pyrelo_self="\${BASH_SOURCE[0]}"
elif [ -n "\${ZSH_VERSION:-}" ]; then
  # zsh: $0 is the sourced file, byte for byte (%x would escape non-ASCII bytes in a C locale).
  _pyrelo_self="$0"
  case "$_pyrelo_self" in */activate) ;; *) _pyrelo_self="\${(%):-%x}" ;; esac
else _pyrelo_self="\${PYRELO_BUNDLE:+$PYRELO_BUNDLE/bin/activate}"
fi
if [ -z "\${_pyrelo_self}" ]; then
  echo "bin/activate: cannot tell where the bundle is in this shell; set PYRELO_BUNDLE=/path/to/bundle first" >&2
  return 1 2>/dev/null || exit 1
fi
deactivate () {
  if [ -n "\${_PYRELO_OLD_PATH+set}" ]; then PATH="$_PYRELO_OLD_PATH"; export PATH; unset _PYRELO_OLD_PATH; fi
  if [ -n "\${_PYRELO_OLD_PS1+set}" ]; then PS1="$_PYRELO_OLD_PS1"; export PS1; unset _PYRELO_OLD_PS1; fi
  unset PYRELO_BUNDLE
  hash -r 2>/dev/null
  unset -f deactivate
}
PYRELO_BUNDLE="$(cd "$(dirname -- "\${_pyrelo_self}")/.." && pwd -P)"
export PYRELO_BUNDLE
unset _pyrelo_self
_PYRELO_OLD_PATH="$PATH"
PATH="$PYRELO_BUNDLE/bin:$PATH"
export PATH
_PYRELO_OLD_PS1="\${PS1:-}"
PS1=${shellSingleQuote(`(${prompt}) `)}"\${PS1:-}"
export PS1
hash -r 2>/dev/null
`;
}

function shellSingleQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * For fish, which cannot source sh: `source /path/to/bundle/bin/activate.fish`. Like venv's
 * activate.fish: the bundle's bin/ first on PATH, the prompt prefixed by wrapping fish_prompt
 * (keeping its exit status), `deactivate` undoing both. The bundle is found from the sourced
 * file's own path (`status filename`), so it works wherever the bundle was moved.
 */
export function activateFishScript(prompt: string): string {
  return `# Source this file from fish: source /path/to/bundle/bin/activate.fish
function deactivate -d 'leave the pyrelo bundle'
    if set -q _PYRELO_OLD_PATH
        set -gx PATH $_PYRELO_OLD_PATH
        set -e _PYRELO_OLD_PATH
    end
    if functions -q _pyrelo_old_fish_prompt
        functions -e fish_prompt
        functions -c _pyrelo_old_fish_prompt fish_prompt
        functions -e _pyrelo_old_fish_prompt
    end
    set -e PYRELO_BUNDLE
    if test "$argv[1]" != nondestructive
        functions -e deactivate
    end
end
deactivate nondestructive
set -gx PYRELO_BUNDLE (builtin realpath (dirname (status filename))/..)
set -gx _PYRELO_OLD_PATH $PATH
set -gx PATH $PYRELO_BUNDLE/bin $PATH
if functions -q fish_prompt
    functions -c fish_prompt _pyrelo_old_fish_prompt
else
    function _pyrelo_old_fish_prompt
    end
end
function fish_prompt
    set -l old_status $status
    printf '%s' ${fishSingleQuote(`(${prompt}) `)}
    # Give the original prompt the exit status the user's command left.
    echo "exit $old_status" | source
    _pyrelo_old_fish_prompt
end
`;
}

function fishSingleQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

export function writeActivate(bundle: string, prompt: string): void {
  for (const [name, text] of [
    ['activate', activateScript(prompt)],
    ['activate.fish', activateFishScript(prompt)],
  ] as const) {
    writeFileSync(join(bundle, 'bin', name), text);
    chmodSync(join(bundle, 'bin', name), 0o644);
  }
}

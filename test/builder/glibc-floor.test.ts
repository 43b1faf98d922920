// The glibc floor of a base pyrelo compiles itself with PYRELO_ZIG_BASE=1 (README, "A base with an
// old glibc floor"; opt-in until this test has passed end to end, and skipped without it):
// Debian bookworm's CPython 3.11.2 tarball compiled with zig for glibc 2.17, its libraries
// (OpenSSL, SQLite, libffi, xz, bzip2, zlib, ncurses, readline, libuuid) compiled the same way and
// linked in, bundled as a bare --libc host runtime. The floor is read from the real files with
// binutils' objdump (not the project's ELF reader), must be ≤ 2.28 and equal the manifest's. The
// bundle then runs in the lab's bullseye (glibc 2.31, which refuses a base compiled on this Debian 12
// host) from a folder whose name has a space, where ssl, sqlite3, ctypes, lzma, bz2, readline,
// curses and uuid are each used, not only imported; `pyrelo check --root` predicts that it loads
// there; and it runs the same way in bookworm and trixie.

import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { build, type BuildResult } from '../../src/builder/build.js';
import { listBundleElves } from '../../src/builder/bundle-elves.js';
import { Progress } from '../../src/builder/progress.js';
import { machine } from '../../src/builder/zig-toolchain.js';
import { loadBaseLibraries } from '../../src/builder/base-libraries-data.js';
import { main } from '../../src/client/cli.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { captureStdout } from '../support/capture-stdout.js';
import { ensureCpythonSource, SOURCE_VERSION } from '../support/cpython-source.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

const TIMEOUT = 60 * 60_000;
/** Where the bundle is bound in each root: a folder name with a space. */
const AT = '/opt/my apps/runtime';

/** Each module used once; one JSON line of what each gave. */
const USE_MODULES = `
import bz2, ctypes, ctypes.util, curses, hashlib, json, lzma, os, readline, sqlite3, ssl, sys, uuid
ctx = ssl.create_default_context()
libc = ctypes.CDLL(None)
libc.getpid.restype = ctypes.c_int
curses.setupterm("xterm", sys.stdout.fileno() if sys.stdout.isatty() else os.open(os.devnull, os.O_WRONLY))
db = sqlite3.connect(":memory:")
db.execute("create virtual table t using fts5(x)")
db.execute("insert into t values ('hello old glibc')")
u = uuid.uuid1()
print(json.dumps({
  "executable": sys.executable,
  "ssl": ssl.OPENSSL_VERSION,
  "verify": ctx.verify_mode == ssl.CERT_REQUIRED,
  "sha256": hashlib.sha256(b"pyrelo").hexdigest(),
  "sqlite": db.execute("select x from t where t match 'glibc'").fetchone()[0],
  "getpid": libc.getpid() == os.getpid(),
  "lzma": lzma.decompress(lzma.compress(b"x")).decode(),
  "bz2": bz2.decompress(bz2.compress(b"b")).decode(),
  "readline": readline.get_history_length(),
  "readline_lib": readline._READLINE_LIBRARY_VERSION,
  "curses_cols": curses.tigetnum("cols"),
  "uuid": u.version,
  "uuid_safe": uuid._uuid is not None,
}))
`;

interface Built {
  readonly dir: string;
  readonly result: BuildResult;
  readonly lines: string[];
}
let built: Promise<Built> | null = null;

function skipReason(): string | undefined {
  if (process.env.PYRELO_ZIG_BASE !== '1')
    return 'the zig base is opt-in for now: PYRELO_ZIG_BASE=1 (README, "A base with an old glibc floor")';
  for (const tool of ['make', 'perl', 'tclsh', 'pkg-config', 'objdump', 'patchelf', 'strip'])
    if (!['/usr/bin', '/bin'].some((d) => existsSync(join(d, tool))))
      return `${tool} is not installed (scripts/install-system-deps.sh)`;
  if (loadBaseLibraries().zig.wheels[machine()] === undefined)
    return `data/base-libraries.json pins no zig for ${machine()}`;
  return undefined;
}

/** The bare runtime, built once for the file. */
function runtime(): Promise<Built> {
  built ??= (async () => {
    const tarball = await ensureCpythonSource();
    const dir = await makeTempDir('pyrelo-glibc-floor-');
    writeFileSync(join(dir, 'use.py'), USE_MODULES);
    const lines: string[] = [];
    const result = await build(
      {
        project: null,
        python: null,
        pythonSource: tarball,
        requirements: null,
        wheelhouse: null,
        libc: 'host',
        minGlibc: '2.17',
        entries: [],
        slim: true,
        clear: false,
        prompt: null,
        withPip: false,
        output: join(dir, 'rt'),
      },
      new Progress((line) => lines.push(line)),
    );
    return { dir, result, lines };
  })();
  return built;
}

test.after(async () => {
  if (built !== null) await removeDir((await built.catch(() => ({ dir: null }))).dir ?? '/nonexistent');
});

/** The highest GLIBC_x.y any ELF of the bundle requires, as objdump -p lists its version references. */
async function objdumpFloor(bundle: string): Promise<{ floor: string; by: string[] }> {
  let best = [0, 0];
  const by = new Map<string, string[]>();
  for (const elf of listBundleElves(bundle).filter((e) => e.dynamic)) {
    const r = await execa('objdump', ['-p', elf.path]);
    for (const m of r.stdout.matchAll(/\bGLIBC_(\d+)\.(\d+)(?:\.\d+)?\b/g)) {
      const v = [Number(m[1]), Number(m[2])];
      const name = `${v[0]}.${v[1]}`;
      by.set(name, [...(by.get(name) ?? []), elf.rel]);
      if (v[0]! > best[0]! || (v[0] === best[0] && v[1]! > best[1]!)) best = v;
    }
  }
  const floor = `${best[0]}.${best[1]}`;
  return { floor, by: [...new Set(by.get(floor) ?? [])] };
}

function below(a: string, b: string): boolean {
  const [x, y] = a.split('.').map(Number);
  const [p, q] = b.split('.').map(Number);
  return x! < p! || (x === p && y! <= q!);
}

function skip(t: TestContext, lab: boolean): boolean {
  if (lab && skipUnlessLab(t, ['debootstrap'])) return true;
  const reason = skipReason();
  if (reason) {
    t.skip(reason);
    return true;
  }
  return false;
}

test(
  'a zig-compiled base: the glibc floor its files need is at most 2.28, and the manifest says so',
  {
    timeout: TIMEOUT,
  },
  async (t) => {
    if (skip(t, false)) return;
    const { result, lines } = await runtime();
    const bundle = result.output;
    const compiled = lines.find((l) => /python-source: CPython .* compiled (in|before)/.test(l));
    t.diagnostic(compiled ?? 'no compile line');
    for (const l of lines.filter((x) => /base-libraries: (compiled|.* compiled before)/.test(x))) t.diagnostic(l);
    const { floor, by } = await objdumpFloor(bundle);
    t.diagnostic(`objdump: GLIBC_${floor}, needed by ${by.join(' ')}`);
    assert.ok(below(floor, '2.28'), `floor ${floor} (needed by ${by.join(', ')}) is above 2.28`);
    assert.equal(result.manifest.glibcFloor, floor, 'the manifest records the floor the files need');
    // Nothing of the build host's but glibc itself: the libraries are the zig-built ones, linked in.
    assert.deepEqual(
      result.manifest.grafted.map((g) => `${g.soname} from ${g.origin}`),
      [],
      'no library grafted from the build host',
    );
  },
);

test(
  'a zig-compiled base: the manifest names clang and the libraries; sysconfig names plain cc and ar',
  {
    timeout: TIMEOUT,
  },
  async (t) => {
    if (skip(t, false)) return;
    const { result } = await runtime();
    const build = result.manifest.python.build!;
    t.diagnostic(`${build.compiler}; ${build.configure.join(' ')}; ${build.libraries?.join(', ')}`);
    assert.equal(build.version, SOURCE_VERSION);
    assert.match(build.compiler, /clang/i);
    assert.ok(
      build.libraries?.some((l) => /^openssl 3\./.test(l)),
      `libraries recorded: ${build.libraries?.join(', ')}`,
    );
    // An sdist compiled later on a target uses that host's cc, not this machine's zig wrapper.
    const cc = await execa(join(result.output, 'bin', 'python3'), [
      '-I',
      '-c',
      'import sysconfig; print(sysconfig.get_config_var("CC")); print(sysconfig.get_config_var("AR"))',
    ]);
    const [ccVar, arVar] = cc.stdout.trim().split('\n');
    assert.equal(ccVar!.split(' ')[0], 'cc');
    assert.equal(arVar, 'ar');
  },
);

interface Used {
  executable: string;
  ssl: string;
  verify: boolean;
  sha256: string;
  sqlite: string;
  getpid: boolean;
  lzma: string;
  bz2: string;
  readline: number;
  readline_lib: string;
  curses_cols: number;
  uuid: number;
  uuid_safe: boolean;
}

async function useModulesIn(name: 'bullseye' | 'bookworm' | 'trixie'): Promise<Used> {
  const { dir, result } = await runtime();
  const root = await ensureRoot(name);
  const r = await runInRoot(root, [`${AT}/bin/python3`, '-I', '/srv/use.py'], {
    bind: [{ hostPath: result.output, rootPath: AT, readOnly: true }],
    copyIn: [{ hostPath: join(dir, 'use.py'), rootPath: '/srv/use.py' }],
    env: { PATH: '/usr/bin:/bin', TERM: 'xterm', LC_ALL: 'C.UTF-8' },
    cwd: '/',
  });
  assert.equal(r.exitCode, 0, `${name}: ${r.stderr}`);
  const used = JSON.parse(r.stdout.trim()) as Used;
  assert.equal(used.executable, `${AT}/bin/python3`);
  assert.match(used.ssl, /^OpenSSL 3\./);
  assert.equal(used.verify, true);
  assert.equal(used.sha256, createHash('sha256').update('pyrelo').digest('hex'));
  assert.equal(used.sqlite, 'hello old glibc');
  assert.equal(used.getpid, true);
  assert.equal(used.lzma, 'x');
  assert.equal(used.bz2, 'b');
  assert.equal(typeof used.readline, 'number');
  assert.match(used.readline_lib, /^8\./);
  assert.equal(used.curses_cols, 80);
  assert.equal(used.uuid, 1);
  assert.equal(used.uuid_safe, true);
  return used;
}

test(
  'bullseye (glibc 2.31): pyrelo check --root predicts the bundle loads, and from a folder with a space ssl, ' +
    'sqlite3, ctypes, lzma, bz2, readline, curses and uuid all work',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip(t, true)) return;
    const { result } = await runtime();
    const root = await ensureRoot('bullseye');
    const { code, stdout } = await captureStdout(() => main(['check', '--root', root, result.output]));
    assert.equal(code, 0, `pyrelo check --root bullseye predicts it loads:\n${stdout.slice(-3000)}`);
    const used = await useModulesIn('bullseye');
    t.diagnostic(`bullseye: ${used.ssl}, readline ${used.readline_lib}`);
  },
);

for (const name of ['bookworm', 'trixie'] as const) {
  test(`${name}: the same bundle still runs, and every module works`, { timeout: TIMEOUT }, async (t) => {
    if (skip(t, true)) return;
    await useModulesIn(name);
  });
}

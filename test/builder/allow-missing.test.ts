// A library whose dependency is nowhere (README "pyrelo build", --allow-missing): gonesmoke, a wheel
// made here with gcc, holds `_gone`, an extension module whose DT_NEEDED names libpyrelo-gone.so.7
// (linked against a stub that is then thrown away, as numba's tbbpool needs a libtbb.so.12 the wheel
// does not ship, or pyodbc a system libodbc.so.2), and `_fine`, one that needs nothing; its
// __init__ imports _gone inside try/except ImportError, as numba does.
// - `pyrelo build` refuses it with exit 1 and one short paragraph naming the soname, the file, the
//   undefined symbols that follow from it (counted, not listed) and the two ways out;
// - with --allow-missing libpyrelo-gone.so.7 it builds; the manifest records the soname and the file;
// - in bookworm, `pyrelo check --root` warns for _gone in ld.so's words and exits 0, and the bundle's
//   own interpreter, importing _gone there, fails with exactly those words (the ground truth), while
//   `_fine` and the package load;
// - in a copy of bookworm that provides the library, the check says _gone loads, and it does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readManifest } from '../../src/bundle/manifest.js';
import { ensureRoot, runInRoot, skipUnlessLab } from '../lab/lab.js';
import { compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';
import { buildSkipReason } from './shared-build.js';
import { BASE_PYTHON, writeWheel } from './wheelhouse.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));
const SONAME = 'libpyrelo-gone.so.7';
const SITE = 'lib/python3.11/site-packages/gonesmoke';
const GONE = `${SITE}/_gone.cpython-311-x86_64-linux-gnu.so`;
const FINE = `${SITE}/_fine.cpython-311-x86_64-linux-gnu.so`;
const AT = '/opt/gonesmoke';
const TIMEOUT = 10 * 60_000;

const GONE_LIBRARY =
  'int gone_table[4] = {7, 0, 0, 0};\nint gone_value(void) { return gone_table[0]; }\nint gone_twice(void) { ' +
  'return 2 * gone_value(); }\n';

function extension(name: string, body: string): string {
  return `#define PY_SSIZE_T_CLEAN
#include <Python.h>
${body}
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "${name}", NULL, -1, methods};
PyMODINIT_FUNC PyInit_${name}(void) { return PyModule_Create(&module); }
`;
}

/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
const GONE_MODULE = extension(
  '_gone',
  `extern int gone_table[4];
int gone_value(void);
int gone_twice(void);
static PyObject *value(PyObject *self, PyObject *args) { return PyLong_FromLong(gone_value() + gone_twice() + gone_table[1]); }`,
);
/* eslint-enable max-len */
const FINE_MODULE = extension(
  '_fine',
  'static PyObject *value(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }',
);
const INIT =
  'try:\n    from . import _gone\nexcept ImportError as error:\n    _gone = None\n    GONE_ERROR = ' +
  'str(error)\nfrom . import _fine\n';

/** The gonesmoke wheel in `dir`/wheelhouse, and the stub library in `dir`/stub (never installed). */
async function writeGoneWheel(dir: string): Promise<{ wheelhouse: string; stub: string; gone: string }> {
  const work = join(dir, 'src');
  const include = (
    await execa(BASE_PYTHON, ['-I', '-c', 'import sysconfig; print(sysconfig.get_path("include"))'])
  ).stdout.trim();
  const stub = await compileSharedLibrary({ dir, file: `stub/${SONAME}`, soname: SONAME, source: GONE_LIBRARY });
  const gone = await compileSharedLibrary({
    dir: work,
    file: '_gone.so',
    source: GONE_MODULE,
    cflags: [`-I${include}`],
    needed: [stub],
  });
  const fine = await compileSharedLibrary({
    dir: work,
    file: '_fine.so',
    source: FINE_MODULE,
    cflags: [`-I${include}`],
  });
  const wheelhouse = join(dir, 'wheelhouse');
  mkdirSync(wheelhouse, { recursive: true });
  await writeWheel(wheelhouse, {
    name: 'gonesmoke',
    version: '1.0',
    tag: 'cp311-cp311-linux_x86_64',
    requires: [],
    files: { 'gonesmoke/__init__.py': INIT },
    binaryFiles: {
      [`gonesmoke/_gone.cpython-311-x86_64-linux-gnu.so`]: gone,
      [`gonesmoke/_fine.cpython-311-x86_64-linux-gnu.so`]: fine,
    },
  });
  return { wheelhouse, stub, gone };
}

async function pyrelo(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('node', [PYRELO, ...args], { reject: false, env: { LC_ALL: 'C' } });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface JsonReport {
  file: string;
  loads: boolean;
  problems: Array<{ kind: string; severity: string; message: string; allowedMissing?: string }>;
}

function reportOf(stdout: string, bundle: string, rel: string): JsonReport {
  const files = (JSON.parse(stdout) as { files: JsonReport[] }).files;
  const report = files.find((f) => f.file === join(bundle, rel));
  assert.ok(report, `${rel} checked`);
  return report;
}

/** Imports a module with the bundle's interpreter in `root`; ImportError's words on failure. */
async function importIn(root: string, bundle: string, code: string): Promise<{ exitCode: number; out: string }> {
  const r = await runInRoot(root, [`${AT}/bin/python3.11`, '-c', code], {
    bind: [{ hostPath: bundle, rootPath: AT, readOnly: true }],
    mountProc: true,
    timeoutMs: 120_000,
  });
  return { exitCode: r.exitCode, out: `${r.stdout}${r.stderr}`.trim() };
}

test(
  'a dependency found nowhere: the build fails in one paragraph; with --allow-missing it ships, and check ' +
    '--root warns in the words the real import prints',
  { timeout: TIMEOUT },
  async (t) => {
    if (skipUnlessLab(t, ['debootstrap'])) return;
    const reason = buildSkipReason();
    if (reason !== undefined) return t.skip(reason);
    const dir = await makeTempDir('pyrelo-allow-missing-');
    try {
      const { wheelhouse, stub, gone: goneModule } = await writeGoneWheel(dir);
      // What follows from the missing library: every symbol _gone takes from it (nm's count, not ours).
      const undefinedFromGone = (await execa('nm', ['-D', '--undefined-only', goneModule])).stdout
        .split('\n')
        .filter((l) => / gone_/.test(l)).length;
      assert.ok(undefinedFromGone >= 2, `_gone leaves gone_* undefined: ${undefinedFromGone}`);
      assert.equal(existsSync(`/usr/lib/x86_64-linux-gnu/${SONAME}`), false, `${SONAME} is on no build host`);
      const common = ['build', 'gonesmoke', '--python', BASE_PYTHON, '--wheelhouse', wheelhouse, '--without-pip'];

      // Refused, in one short paragraph: no undefined-symbol lines, the soname, the file, the way out.
      const refused = await pyrelo([...common, '-o', join(dir, 'refused')]);
      assert.equal(refused.exitCode, 1, refused.stderr);
      const failure = refused.stderr.slice(refused.stderr.indexOf('pyrelo build: failed:'));
      t.diagnostic(failure);
      assert.equal(
        failure,
        `pyrelo build: failed: the bundle is not self-contained:\n  ${SONAME}, needed by ${GONE}, is neither ` +
          'in the bundle nor on the build host ' +
          (`(${undefinedFromGone} undefined symbols follow from it): install it on the build host so it is ` +
            `grafted, or pass --allow-missing ${SONAME} to ship without it`),
      );
      assert.equal(existsSync(join(dir, 'refused')), false, 'nothing written');

      // Allowed: it builds, and the manifest says what it ships without.
      const bundle = join(dir, 'bundle');
      const built = await pyrelo([...common, '--allow-missing', SONAME, '-o', bundle]);
      assert.equal(built.exitCode, 0, built.stderr);
      const words = `${SONAME}: cannot open shared object file: No such file or directory`;
      assert.ok(
        built.stderr.includes(`warning: ${GONE}: ${words} (${SONAME} was allowed missing at build)`),
        built.stderr,
      );
      assert.ok(built.stderr.includes(`left out (--allow-missing): ${SONAME}`), built.stderr);
      assert.deepEqual(readManifest(bundle).allowMissing, [{ soname: SONAME, neededBy: [GONE] }]);

      const root = await ensureRoot('bookworm');
      // The ground truth: the real import fails with ld.so's words; the rest of the package loads.
      const real = await importIn(root, bundle, 'import gonesmoke._gone');
      assert.notEqual(real.exitCode, 0);
      assert.match(real.out, new RegExp(`ImportError: ${words.replace(/[.]/g, '\\.')}$`));
      const rest = await importIn(
        root,
        bundle,
        'import gonesmoke; print(gonesmoke._gone, gonesmoke._fine.value(), gonesmoke.GONE_ERROR)',
      );
      assert.equal(rest.exitCode, 0, rest.out);
      assert.equal(rest.out, `None 42 ${words}`);

      // The prediction: a warning for _gone in those words, _fine loads, exit status 0.
      const json = await pyrelo(['check', '--root', root, '--json', bundle]);
      assert.equal(json.exitCode, 0, json.stdout.slice(0, 2000));
      const gone = reportOf(json.stdout, bundle, GONE);
      assert.equal(gone.loads, false, 'the file itself does not load, as the real import says');
      assert.deepEqual(
        gone.problems.filter((p) => p.severity === 'error'),
        [],
      );
      assert.deepEqual(
        gone.problems.filter((p) => p.kind === 'missing-library').map((p) => [p.severity, p.message, p.allowedMissing]),
        [['warning', words, SONAME]],
      );
      assert.equal(reportOf(json.stdout, bundle, FINE).loads, true);
      const text = await pyrelo(['check', '--root', root, bundle]);
      assert.equal(text.exitCode, 0, text.stdout.slice(-2000));
      assert.ok(
        text.stdout.includes(`  warning: ${words} (${SONAME} was allowed missing at build)`),
        text.stdout.slice(-2000),
      );
      assert.equal(
        text.stdout.includes('undefined symbol: gone_'),
        false,
        'what follows from it is counted, not listed',
      );
      assert.ok(
        text.stdout.includes(
          `  warning: ${undefinedFromGone} undefined symbols and versions follow from ${SONAME}; --json lists them`,
        ),
        text.stdout.slice(-2000),
      );
      assert.match(
        text.stdout,
        new RegExp(
          `${SONAME.replace(/[.]/g, '\\.')} was allowed missing at build and is not on root \\S+: 1 file that needs it will not load`,
        ),
      );
      t.diagnostic(
        text.stdout
          .split('\n')
          .filter((l) => l.includes('allowed missing') || l.includes('checked on'))
          .join('\n'),
      );

      // A host that provides it (bookworm with the library in its system folder): the check says it loads, and it does.
      const provided = join(dir, 'bookworm-with-gone');
      await execa('cp', ['-al', root, provided]);
      await execa('cp', [stub, join(provided, 'usr/lib/x86_64-linux-gnu', SONAME)]);
      const there = await pyrelo(['check', '--root', provided, '--json', bundle]);
      assert.equal(there.exitCode, 0);
      assert.equal(
        reportOf(there.stdout, bundle, GONE).loads,
        true,
        JSON.stringify(reportOf(there.stdout, bundle, GONE).problems),
      );
      const thereText = await pyrelo(['check', '--root', provided, bundle]);
      assert.ok(
        thereText.stdout.includes(`${SONAME} was allowed missing at build and is on root`),
        thereText.stdout.slice(-1500),
      );
      const loads = await importIn(provided, bundle, 'import gonesmoke._gone as g; print(g.value())');
      assert.equal(loads.exitCode, 0, loads.out);
      assert.equal(loads.out, String(7 + 14 + 0));
      rmSync(provided, { recursive: true, force: true });
      assert.ok(readFileSync(join(root, 'etc/debian_version'), 'utf8').length > 0, 'the cached root is intact');
      assert.equal(existsSync(join(root, 'usr/lib/x86_64-linux-gnu', SONAME)), false, 'the cached root is untouched');
    } finally {
      await removeDir(dir);
    }
  },
);

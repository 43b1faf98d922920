// The build tests' wheelhouse, cached OUTSIDE the checkout (keyed by the requirement list and the
// local extension's source) so CI downloads and compiles once:
// - wheels from PyPI: `pip download --only-binary=:all:` for CPython 3.11 manylinux x86_64;
// - yamlsmoke, a wheel built here from a small C extension linking Debian's libyaml (libyaml-dev),
//   so the build must graft a library from a Debian package; it also carries the smoke app.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export const BASE_PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3.11';
export const WHEELHOUSE_CACHE = process.env.PYRELO_WHEELHOUSE_CACHE ?? '/var/cache/pyrelo/wheelhouse';
export const PYPI_REQUIREMENTS = ['cryptography'];

const C_SOURCE = `#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <yaml.h>

static PyObject *version(PyObject *self, PyObject *args) {
    return PyUnicode_FromString(yaml_get_version_string());
}

/* Number of parser events for a document: proves libyaml really runs. */
static PyObject *count_events(PyObject *self, PyObject *arg) {
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(arg, &size);
    if (text == NULL) return NULL;
    yaml_parser_t parser;
    yaml_event_t event;
    long count = 0;
    if (!yaml_parser_initialize(&parser)) return PyErr_NoMemory();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, (size_t)size);
    for (;;) {
        if (!yaml_parser_parse(&parser, &event)) {
            yaml_parser_delete(&parser);
            PyErr_SetString(PyExc_ValueError, "libyaml could not parse the document");
            return NULL;
        }
        count += 1;
        int done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
        if (done) break;
    }
    yaml_parser_delete(&parser);
    return PyLong_FromLong(count);
}

static PyMethodDef methods[] = {
    {"version", version, METH_NOARGS, "libyaml version"},
    {"count_events", count_events, METH_O, "parser events in a document"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_yaml_c", NULL, -1, methods};

PyMODINIT_FUNC PyInit__yaml_c(void) { return PyModule_Create(&module); }
`;

/** The smoke app: what a real application would touch, printed as one JSON object. */
export const SMOKE_MODULE = `import json, os, ssl, sqlite3, subprocess, sys


def main():
    from cryptography.fernet import Fernet
    from yamlsmoke import _yaml_c
    key = Fernet.generate_key()
    token = Fernet(key).encrypt(b"pyrelo")
    child = subprocess.run(["sh", "-c", "env; ls /"], capture_output=True, text=True)
    print(json.dumps({
        "version": sys.version,
        "prefix": sys.prefix,
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "yaml": _yaml_c.version(),
        "yaml_events": _yaml_c.count_events("a: [1, 2]"),
        "fernet": Fernet(key).decrypt(token).decode(),
        "ssl": ssl.OPENSSL_VERSION,
        "sqlite": sqlite3.sqlite_version,
        "child_exit": child.returncode,
        "child_stdout": child.stdout,
        "child_stderr": child.stderr,
    }))
    return 0
`;

/**
 * The yamlsmoke wheel, its extension compiled against `include` (a CPython's headers; this
 * machine's 3.11 unless given) and tagged for that CPython's ABI (cp311, cp313, …).
 */
async function buildYamlWheel(dir: string, include: string | null = null): Promise<void> {
  const work = join(dir, '.yamlsmoke-build');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'yamlsmoke.c'), C_SOURCE);
  writeFileSync(join(work, 'smoke.py'), SMOKE_MODULE);
  const headers =
    include ??
    (await execa(BASE_PYTHON, ['-I', '-c', 'import sysconfig; print(sysconfig.get_path("include"))'])).stdout.trim();
  const abi = abiOfInclude(headers);
  const so = join(work, '_yaml_c.so');
  await execa('gcc', ['-shared', '-fPIC', '-O2', `-I${headers}`, join(work, 'yamlsmoke.c'), '-o', so, '-lyaml']);
  await writeWheel(dir, {
    name: 'yamlsmoke',
    version: '1.0',
    tag: `${abi}-${abi}-linux_x86_64`,
    requires: ['cryptography'],
    files: { 'yamlsmoke/__init__.py': '', 'yamlsmoke/smoke.py': SMOKE_MODULE },
    binaryFiles: { [`yamlsmoke/_yaml_c.cpython-${abi.slice(2)}-x86_64-linux-gnu.so`]: so },
  });
  rmSync(work, { recursive: true, force: true });
}

/** "cp313" for a CPython include folder named python3.13 (its sysconfig include path). */
function abiOfInclude(include: string): string {
  const m = /python3\.(\d+)$/.exec(include.replace(/\/+$/, ''));
  if (m === null) throw new Error(`${include}: not a CPython include folder (…/include/python3.X)`);
  return `cp3${m[1]}`;
}

/** pip download's platform tags: manylinux wheels this machine's glibc (2.36) and CPython 3.11 x86_64 can use. */
const PLATFORMS = ['manylinux2014_x86_64', 'manylinux_2_17_x86_64', 'manylinux_2_28_x86_64'];

/**
 * A wheelhouse folder in WHEELHOUSE_CACHE/<key>, made once: the wheels of `requirements` from PyPI
 * (binary only, for CPython 3.11 x86_64 manylinux), then whatever `addLocal` writes into it. Built
 * in a temporary folder and renamed into place after its stamp, so an interrupted run is never used.
 */
async function ensureCachedWheelhouse(
  key: string,
  requirements: readonly string[],
  addLocal: (dir: string) => Promise<void>,
  pythonVersion = '3.11',
): Promise<string> {
  return cachedFolder(
    join(WHEELHOUSE_CACHE, key),
    async (temporary) => {
      await execa(BASE_PYTHON, [
        '-m',
        'pip',
        'download',
        '--quiet',
        '--only-binary=:all:',
        '--python-version',
        pythonVersion,
        '--implementation',
        'cp',
        ...PLATFORMS.flatMap((p) => ['--platform', p]),
        '-d',
        temporary,
        ...requirements,
      ]);
      await addLocal(temporary);
    },
    `${requirements.join('\n')}\n`,
  );
}

/** The cached wheelhouse folder; built (downloaded and compiled) once per key. */
export async function ensureWheelhouse(): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify([PYPI_REQUIREMENTS, C_SOURCE, SMOKE_MODULE, WRITE_WHEEL]))
    .digest('hex')
    .slice(0, 16);
  return ensureCachedWheelhouse(key, PYPI_REQUIREMENTS, (dir) => buildYamlWheel(dir));
}

// The scientific wheelhouse: numpy and lxml as auditwheel repaired them (numpy.libs/ with OpenBLAS,
// gfortran and quadmath under hashed names, DT_RPATH $ORIGIN/../../numpy.libs; lxml with libxml2
// and libxslt linked in), pinned so the cache key names what is in it, plus scismoke, a pure wheel
// whose main() multiplies matrices, solves a system (LAPACK) and runs an XPath and an XSLT.
export const SCIENTIFIC_REQUIREMENTS = ['numpy==2.4.6', 'lxml==6.1.3'];

/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
export const SCISMOKE_MODULE = `import json, sys


def main():
    import numpy as np
    from lxml import etree
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(6.0).reshape(3, 2)
    doc = etree.fromstring(b'<root><item n="1">a</item><item n="2">b</item></root>')
    xslt = etree.XSLT(etree.fromstring(
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        b'<xsl:template match="/"><out><xsl:for-each select="//item"><xsl:value-of select="."/></xsl:for-each></out></xsl:template>'
        b'</xsl:stylesheet>'))
    print(json.dumps({
        "prefix": sys.prefix,
        "numpy": np.__version__,
        "matmul": (a @ b).tolist(),
        "solve": np.linalg.solve(np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([9.0, 8.0])).round(6).tolist(),
        "lxml": ".".join(map(str, etree.LXML_VERSION[:3])),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "xpath": doc.xpath("sum(//item/@n)"),
        "xslt": str(xslt(doc)).strip(),
    }))
    return 0
`;
/* eslint-enable max-len */

/** Writes a pure wheel: argv[1] the wheel path, argv[2] a JSON object {name, version, requires, files}. */
/**
 * Writes a wheel (argv[1]) from a spec (argv[2], JSON: name, version, tag, requires, files as text,
 * binaryFiles as paths to read), with METADATA, WHEEL and RECORD, at fixed times: the same spec
 * gives the same bytes.
 */
/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
const WRITE_WHEEL = `
import base64, hashlib, json, sys, zipfile
out, spec = sys.argv[1], json.loads(sys.argv[2])
info_dir = "%s-%s.dist-info" % (spec["name"], spec["version"])
meta = "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (spec["name"], spec["version"])
meta += "".join("Requires-Dist: %s\\n" % r for r in spec["requires"])
files = dict((k, v.encode()) for k, v in spec["files"].items())
files.update((k, open(v, "rb").read()) for k, v in spec.get("binaryFiles", {}).items())
files[info_dir + "/METADATA"] = meta.encode()
purelib = "true" if spec["tag"] == "py3-none-any" else "false"
files[info_dir + "/WHEEL"] = ("Wheel-Version: 1.0\\nGenerator: pyrelo-tests\\nRoot-Is-Purelib: %s\\nTag: %s\\n" % (purelib, spec["tag"])).encode()
record = []
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in files.items():
        info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append(info_dir + "/RECORD,,")
    z.writestr(zipfile.ZipInfo(info_dir + "/RECORD", (1980, 1, 1, 0, 0, 0)), "\\n".join(record) + "\\n")
`;
/* eslint-enable max-len */
import { cachedFolder } from '../support/cached-folder.js';

export interface WheelSpec {
  name: string;
  version: string;
  tag: string;
  requires: string[];
  files: Record<string, string>;
  binaryFiles?: Record<string, string>;
}

export async function writeWheel(dir: string, spec: WheelSpec): Promise<void> {
  await execa(BASE_PYTHON, [
    '-I',
    '-c',
    WRITE_WHEEL,
    join(dir, `${spec.name}-${spec.version}-${spec.tag}.whl`),
    JSON.stringify(spec),
  ]);
}

async function buildScismokeWheel(dir: string): Promise<void> {
  await writeWheel(dir, {
    name: 'scismoke',
    version: '1.0',
    tag: 'py3-none-any',
    requires: ['numpy', 'lxml'],
    files: { 'scismoke/__init__.py': SCISMOKE_MODULE },
  });
}

/** numpy, lxml and scismoke: cached like ensureWheelhouse, under its own key. */
export async function ensureScientificWheelhouse(): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify(['scientific', SCIENTIFIC_REQUIREMENTS, PLATFORMS, SCISMOKE_MODULE, WRITE_WHEEL]))
    .digest('hex')
    .slice(0, 16);
  return ensureCachedWheelhouse(key, SCIENTIFIC_REQUIREMENTS, buildScismokeWheel);
}

/**
 * The combined app's wheels for another CPython (`pyrelo build --python 3.13`): yamlsmoke compiled
 * against that CPython's headers (`include`, …/include/python3.13 of its compiled prefix), scismoke,
 * and cryptography, numpy and lxml from PyPI for its ABI. Cached like the others, under a key that
 * holds the headers' patchlevel.h (so the exact release), the requirements and the sources.
 */
export async function ensureVersionWheelhouse(include: string): Promise<string> {
  const short = `3.${abiOfInclude(include).slice('cp3'.length)}`;
  const requirements = [...PYPI_REQUIREMENTS, ...SCIENTIFIC_REQUIREMENTS];
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        'version',
        readFileSync(join(include, 'patchlevel.h'), 'utf8'),
        requirements,
        PLATFORMS,
        C_SOURCE,
        SMOKE_MODULE,
        SCISMOKE_MODULE,
        WRITE_WHEEL,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  return ensureCachedWheelhouse(
    `cp${short.replace('.', '')}-${key}`,
    requirements,
    async (dir) => {
      await buildYamlWheel(dir, include);
      await buildScismokeWheel(dir);
    },
    short,
  );
}

// The combined app: yamlsmoke (cryptography, cffi, the libyaml extension) and scismoke (numpy,
// lxml) in one bundle, driven by allsmoke, a pure wheel whose main() runs both smoke apps in its
// own process and a multiprocessing pool with the spawn start method (each worker a new bundled
// interpreter that imports numpy and reports what it runs as), printed as one JSON object.
export const ALLSMOKE_MODULE = `import contextlib, io, json, multiprocessing, os, sys


def _work(n):
    import numpy as np
    v = np.arange(n + 1)
    return {
        "n": n,
        "sum_of_squares": int(v @ v),
        "pid": os.getpid(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "ld_vars": sorted(k for k in os.environ if k.startswith("LD_")),
    }


def _run(main):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main()
    if code != 0:
        raise SystemExit("%s.main() returned %r" % (main.__module__, code))
    return json.loads(out.getvalue())


def main():
    import scismoke
    from yamlsmoke import smoke
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        work = pool.map(_work, range(8))
    print(json.dumps({
        "prefix": sys.prefix,
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "start_method": context.get_start_method(),
        "yamlsmoke": _run(smoke.main),
        "scismoke": _run(scismoke.main),
        "pool": work,
    }))
    return 0
`;

/** What the combined app installs: -r requirements (with project yamlsmoke) and its commands. */
export const COMBINED_REQUIREMENTS = ['allsmoke', 'scismoke', ...SCIENTIFIC_REQUIREMENTS];
export const COMBINED_ENTRIES = ['allsmoke=allsmoke:main', 'smoke=yamlsmoke.smoke:main', 'scismoke=scismoke:main'];

/**
 * The combined wheelhouse in `dir` (a test's temporary folder): symbolic links to every wheel of the
 * two cached wheelhouses (for 3.11), or of `versionWheelhouse` (ensureVersionWheelhouse's, for another
 * CPython), the allsmoke wheel written beside them, and requirements.txt. Returns the wheelhouse
 * folder and the requirements file.
 */
export interface CombinedWheelhouse {
  wheelhouse: string;
  requirements: string;
}

export async function makeCombinedWheelhouse(
  dir: string,
  versionWheelhouse: string | null = null,
): Promise<CombinedWheelhouse> {
  const wheelhouse = join(dir, 'wheelhouse');
  mkdirSync(wheelhouse, { recursive: true });
  const wheelhouses =
    versionWheelhouse === null ? [await ensureWheelhouse(), await ensureScientificWheelhouse()] : [versionWheelhouse];
  for (const cached of wheelhouses) {
    for (const name of readdirSync(cached).filter((n) => n.endsWith('.whl')))
      symlinkSync(join(cached, name), join(wheelhouse, name));
  }
  await writeWheel(wheelhouse, {
    name: 'allsmoke',
    version: '1.0',
    tag: 'py3-none-any',
    requires: ['yamlsmoke', 'scismoke'],
    files: { 'allsmoke/__init__.py': ALLSMOKE_MODULE },
  });
  const requirements = join(dir, 'requirements.txt');
  writeFileSync(requirements, `${COMBINED_REQUIREMENTS.join('\n')}\n`);
  return { wheelhouse, requirements };
}

// An sdist (no wheel) of a small pure package, greet, whose build backend is setuptools: building
// it offline needs setuptools (ensurepip's wheel has it) and, for that setuptools (< 70.1), wheel.
// The sdist wheelhouse holds the sdist and the `wheel` wheel; a test that wants the build to lack
// its requirement links only the sdist.
export const SDIST_NAME = 'greet-1.0.tar.gz';
const SDIST_FILES: Record<string, string> = {
  'greet-1.0/pyproject.toml':
    '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname ' +
    '= "greet"\nversion = "1.0"\n',
  'greet-1.0/PKG-INFO': 'Metadata-Version: 2.1\nName: greet\nVersion: 1.0\n',
  'greet-1.0/greet/__init__.py': 'def hello():\n    return "hello from an sdist"\n',
};
/** Writes an sdist (argv[1]) of the files given as JSON (argv[2]). */
export const WRITE_SDIST = `import io, json, sys, tarfile
files = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], "w:gz") as tar:
    for name in sorted(files):
        data = files[name].encode()
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
`;
export const SDIST_BUILD_REQUIREMENTS = ['wheel==0.45.1'];

export async function ensureSdistWheelhouse(): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify(['sdist', SDIST_BUILD_REQUIREMENTS, SDIST_FILES, WRITE_SDIST]))
    .digest('hex')
    .slice(0, 16);
  return ensureCachedWheelhouse(key, SDIST_BUILD_REQUIREMENTS, async (dir) => {
    await execa(BASE_PYTHON, ['-I', '-c', WRITE_SDIST, join(dir, SDIST_NAME), JSON.stringify(SDIST_FILES)]);
  });
}

// magicsmoke: a pure wheel whose code opens Debian's libmagic (libmagic1) by name with ctypes, as
// python-magic does, so no DT_NEEDED names it. The library is opened in a child interpreter of the
// bundle, and the app also starts a host tool (sh): what the build's smoke run records must follow
// children and ignore host programs. libmagic1 is on this machine (the `file` package of
// scripts/install-system-deps.sh depends on it) and in no lab root.
export const MAGIC_LIBRARY = 'libmagic.so.1';
/* eslint-disable max-len -- an embedded program, kept line for line as it runs */
export const MAGICSMOKE_MODULE = `import ctypes, json, subprocess, sys


def version():
    return ctypes.CDLL("${MAGIC_LIBRARY}").magic_version()


def main():
    child = subprocess.run([sys.executable, "-c", "import magicsmoke; print(magicsmoke.version())"], capture_output=True, text=True)
    host_tool = subprocess.run(["sh", "-c", "exit 0"])
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        return 1
    print(json.dumps({"magic_version": int(child.stdout), "host_tool_exit": host_tool.returncode, "prefix": sys.prefix}))
    return 0
`;
/* eslint-enable max-len */

/** Writes the magicsmoke wheel into `dir` (a test's own folder: it takes a fraction of a second). */
export async function writeMagicWheel(dir: string): Promise<void> {
  await writeWheel(dir, {
    name: 'magicsmoke',
    version: '1.0',
    tag: 'py3-none-any',
    requires: [],
    files: { 'magicsmoke/__init__.py': MAGICSMOKE_MODULE },
  });
}

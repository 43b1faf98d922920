// The build tests' wheelhouse, cached OUTSIDE the checkout (keyed by the requirement list and the
// local extension's source) so CI downloads and compiles once:
// - wheels from PyPI: `pip download --only-binary=:all:` for CPython 3.11 manylinux x86_64;
// - yamlsmoke, a wheel built here from a small C extension linking Debian's libyaml (libyaml-dev),
//   so the build must graft a library from a Debian package; it also carries the smoke app.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

const BUILD_WHEEL = `
import base64, hashlib, sys, zipfile
out, so, smoke = sys.argv[1], sys.argv[2], sys.argv[3]
files = {
    "yamlsmoke/__init__.py": b"",
    "yamlsmoke/_yaml_c.cpython-311-x86_64-linux-gnu.so": open(so, "rb").read(),
    "yamlsmoke/smoke.py": open(smoke, "rb").read(),
    "yamlsmoke-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: yamlsmoke\\nVersion: 1.0\\nRequires-Dist: cryptography\\n",
    "yamlsmoke-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: pyrelo-tests\\nRoot-Is-Purelib: false\\nTag: cp311-cp311-linux_x86_64\\n",
}
record = []
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in files.items():
        info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append("yamlsmoke-1.0.dist-info/RECORD,,")
    info = zipfile.ZipInfo("yamlsmoke-1.0.dist-info/RECORD", (1980, 1, 1, 0, 0, 0))
    z.writestr(info, "\\n".join(record) + "\\n")
`;

async function buildYamlWheel(dir: string): Promise<void> {
  const work = join(dir, '.yamlsmoke-build');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'yamlsmoke.c'), C_SOURCE);
  writeFileSync(join(work, 'smoke.py'), SMOKE_MODULE);
  const include = (await execa(BASE_PYTHON, ['-I', '-c', 'import sysconfig; print(sysconfig.get_path("include"))'])).stdout.trim();
  const so = join(work, '_yaml_c.so');
  await execa('gcc', ['-shared', '-fPIC', '-O2', `-I${include}`, join(work, 'yamlsmoke.c'), '-o', so, '-lyaml']);
  await execa(BASE_PYTHON, ['-I', '-c', BUILD_WHEEL, join(dir, 'yamlsmoke-1.0-cp311-cp311-linux_x86_64.whl'), so, join(work, 'smoke.py')]);
  rmSync(work, { recursive: true, force: true });
}

/** The cached wheelhouse folder; built (downloaded and compiled) once per key. */
export async function ensureWheelhouse(): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify([PYPI_REQUIREMENTS, C_SOURCE, SMOKE_MODULE, BUILD_WHEEL])).digest('hex').slice(0, 16);
  const dir = join(WHEELHOUSE_CACHE, key);
  if (existsSync(join(dir, '.complete'))) return dir;
  mkdirSync(WHEELHOUSE_CACHE, { recursive: true });
  const temporary = `${dir}.tmp-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary);
  try {
    await execa(BASE_PYTHON, ['-m', 'pip', 'download', '--quiet', '--only-binary=:all:', '--python-version', '3.11', '--implementation', 'cp',
      '--platform', 'manylinux2014_x86_64', '--platform', 'manylinux_2_17_x86_64', '--platform', 'manylinux_2_28_x86_64',
      '-d', temporary, ...PYPI_REQUIREMENTS]);
    await buildYamlWheel(temporary);
    writeFileSync(join(temporary, '.complete'), `${PYPI_REQUIREMENTS.join('\n')}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(temporary, dir);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

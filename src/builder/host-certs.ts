// Step "host": what the target host supplies, found where that host keeps it. The bundle's OpenSSL
// looks for CA certificates under its build host's OPENSSLDIR (Debian: /usr/lib/ssl), which RHEL,
// SUSE or Alpine hosts (and Debian ones without the openssl package) do not have. The bundle gets:
// - lib/python3.X/_pyrelo_host.py (data/python/): on the first `import ssl`, the default verify
//   paths also take the host's first CA file and folder of lib/pyrelo/host-certs.json, or the
//   bundled CA file on a host without any; SSL_CERT_FILE / SSL_CERT_DIR win; os.environ untouched;
// - lib/python3.X/sitecustomize.py (data/python/), which installs the hook at start-up (lazily:
//   start-up imports no ssl) in the bundle AND in every venv made from it: a venv has its own
//   site-packages but shares the bundle's standard library folder. It then runs the sitecustomize
//   Python would have found without it (the base's own, renamed _pyrelo_base_sitecustomize.py,
//   or the next one on sys.path), so an application's sitecustomize still runs;
// - lib/python3.X/site-packages/pyrelo-host.pth, the same hook for the bundle itself even when a
//   sitecustomize earlier on sys.path (PYTHONPATH) shadows ours; installing twice is a no-op;
// - lib/pyrelo/terminfo/ and host-terminfo.json (host-terminfo.ts): curses on hosts without terminfo;
// - lib/pyrelo/host-certs.json (data/host-certs.json, the host paths as data, plus which fallback
//   was bundled) and lib/pyrelo/cacert.pem, the fallback: certifi's from the wheelhouse when it
//   holds a certifi wheel, else this build host's own CA store.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BasePython } from './base-python.js';
import { dataFile } from '../common/package-files.js';
import { copyTerminfo } from './host-terminfo.js';

export const HOST_DIR = 'lib/pyrelo';
export const HOOK_MODULE = '_pyrelo_host';
export const HOOK_PTH = 'pyrelo-host.pth';
export const SITECUSTOMIZE = 'sitecustomize.py';
/** Where the base interpreter's own stdlib sitecustomize.py goes; ours runs it. */
export const BASE_SITECUSTOMIZE = '_pyrelo_base_sitecustomize.py';
export const FALLBACK_CA = 'cacert.pem';

interface HostCerts {
  readonly about?: string;
  readonly files: ReadonlyArray<{ readonly path: string; readonly hosts: string }>;
  readonly dirs: ReadonlyArray<{ readonly path: string; readonly hosts: string }>;
}

export function loadHostCerts(path = dataFile('host-certs.json')): HostCerts {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as HostCerts;
  for (const key of ['files', 'dirs'] as const) {
    if (
      !Array.isArray(parsed[key]) ||
      parsed[key].some((e) => typeof e?.path !== 'string' || !e.path.startsWith('/'))
    ) {
      throw new Error(`${path}: ${key}: expected a list of { path (absolute), hosts }`);
    }
  }
  return parsed;
}

/** certifi-2024.8.30-py3-none-any.whl → [2024, 8, 30] */
function wheelVersion(name: string): number[] {
  return (name.split('-')[1] ?? '').split('.').map((n) => Number.parseInt(n, 10) || 0);
}

function newestCertifi(wheelhouse: string | null): string | null {
  if (wheelhouse === null) return null;
  const wheels = readdirSync(wheelhouse).filter((n) => /^certifi-[^-]+-.*\.whl$/.test(n));
  wheels.sort((a, b) => {
    const [x, y] = [wheelVersion(a), wheelVersion(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i += 1)
      if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return a < b ? -1 : 1;
  });
  return wheels.length > 0 ? join(wheelhouse, wheels[wheels.length - 1]!) : null;
}

const EXTRACT_CERTIFI = `import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    sys.stdout.buffer.write(z.read("certifi/cacert.pem"))
`;

/** Where the fallback CA file comes from: a certifi wheel of the wheelhouse, or this host's store. */
async function writeFallback(
  target: string,
  python: string,
  wheelhouse: string | null,
  spec: HostCerts,
): Promise<string | null> {
  const certifi = newestCertifi(wheelhouse);
  if (certifi !== null) {
    const r = await execa(python, ['-I', '-c', EXTRACT_CERTIFI, certifi], {
      encoding: 'buffer',
      stripFinalNewline: false,
      extendEnv: false,
      env: {},
    });
    writeFileSync(target, r.stdout);
    return `certifi ${certifi.split('/').pop()!.split('-')[1]} (wheelhouse)`;
  }
  const own = spec.files.find((f) => existsSync(f.path) && statSync(f.path).isFile());
  if (own === undefined) return null;
  copyFileSync(own.path, target);
  return `this build host's ${own.path}`;
}

export async function installHostHooks(
  bundle: string,
  base: BasePython,
  python: string,
  wheelhouse: string | null,
): Promise<{ summary: string; fallback: string | null }> {
  const spec = loadHostCerts();
  const dir = join(bundle, HOST_DIR);
  mkdirSync(dir, { recursive: true });
  const fallbackPath = join(dir, FALLBACK_CA);
  const fallback = await writeFallback(fallbackPath, python, wheelhouse, spec);
  const certs =
    fallback !== null ? (readFileSync(fallbackPath, 'latin1').match(/-----BEGIN CERTIFICATE-----/g) ?? []).length : 0;
  writeFileSync(
    join(dir, 'host-certs.json'),
    `${JSON.stringify(
      {
        ...spec,
        fallback: fallback !== null ? FALLBACK_CA : null,
        fallbackSource: fallback,
      },
      null,
      2,
    )}\n`,
  );
  const terminfo = copyTerminfo(dir);
  copyFileSync(dataFile('host-terminfo.json'), join(dir, 'host-terminfo.json'));
  copyFileSync(dataFile(`python/${HOOK_MODULE}.py`), join(bundle, base.stdlib, `${HOOK_MODULE}.py`));
  const stdlibSitecustomize = join(bundle, base.stdlib, SITECUSTOMIZE);
  const keptBase = existsSync(stdlibSitecustomize);
  if (keptBase) renameSync(stdlibSitecustomize, join(bundle, base.stdlib, BASE_SITECUSTOMIZE));
  copyFileSync(dataFile(`python/${SITECUSTOMIZE}`), stdlibSitecustomize);
  mkdirSync(join(bundle, base.purelib), { recursive: true });
  writeFileSync(join(bundle, base.purelib, HOOK_PTH), `import ${HOOK_MODULE}; ${HOOK_MODULE}.install()\n`);
  const size =
    (fallback !== null ? statSync(fallbackPath).size : 0) +
    statSync(join(dir, 'host-certs.json')).size +
    statSync(join(bundle, base.stdlib, `${HOOK_MODULE}.py`)).size +
    statSync(stdlibSitecustomize).size;
  return {
    fallback,
    summary:
      `ssl's default verify paths take the host's CA store (${spec.files.length} files, ${spec.dirs.length} ` +
      `folders known, ${HOST_DIR}/host-certs.json); ` +
      (fallback !== null
        ? `fallback ${HOST_DIR}/${FALLBACK_CA}: ${certs} certificates from ${fallback}`
        : 'no fallback CA file (no certifi wheel in the wheelhouse, no CA store on this host)') +
      (`; hook in ${base.stdlib}/${SITECUSTOMIZE} (venvs made from the bundle keep it` +
        `${keptBase ? `; the base's own runs after it, as ${BASE_SITECUSTOMIZE}` : ''}) and ${HOOK_PTH}`) +
      (`; curses: ${terminfo.copied.length} terminfo entries for hosts without any` +
        `${terminfo.missing.length > 0 ? ` (not on this host: ${terminfo.missing.join(' ')})` : ''}`) +
      `; ${((size + terminfo.bytes) / 1024).toFixed(0)} KiB`,
  };
}

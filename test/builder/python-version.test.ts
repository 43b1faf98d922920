// `pyrelo build --python 3.13`: the version resolved from data/cpython-sources.json (checked when
// read), the source fetched from a mirror (a real HTTP server on loopback, or a file:// folder laid
// out as the archive) and checked against the .dsc; a tampered .dsc or tarball, a mirror that lacks
// the newest release, a cached tarball (no mirror asked), and through the CLI an unknown version and
// a tampered 3.11 tarball on a file:// mirror: exit 2, one line, nothing compiled or written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import {
  loadCpythonCatalog,
  matchingSources,
  requestedVersion,
  type CpythonCatalog,
  type CpythonSource,
} from '../../src/builder/cpython-catalog.js';
import { chooseMirror, sourceForVersion } from '../../src/builder/cpython-fetch.js';
import { BuildInputError } from '../../src/builder/errors.js';
import { Progress } from '../../src/builder/progress.js';
import { dataFile } from '../../src/common/package-files.js';
import { ensureCpythonSource, DSC, ORIG, POOL, SOURCE_CACHE } from '../support/cpython-source.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

const PYRELO = fileURLToPath(new URL('../../src/client/main.js', import.meta.url));

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function quiet(lines: string[] = []): Progress {
  return new Progress((line) => lines.push(line));
}

test('the catalog in data/ reads, and names where its entries came from', () => {
  const catalog = loadCpythonCatalog();
  assert.match(catalog.source, /Sources/);
  const versions = catalog.versions.map((v) => v.version);
  for (const series of ['3.11', '3.13'])
    assert.ok(
      versions.some((v) => v.startsWith(`${series}.`)),
      `${series} in ${versions.join(', ')}`,
    );
  const bookworm = catalog.versions.find((v) => v.version === '3.11.2')!;
  // The same tarball the --python-source tests pin (test/support/cpython-source.ts).
  assert.equal(bookworm.orig, ORIG);
  assert.equal(bookworm.directory, POOL);
});

test('a damaged catalog is refused, naming the file and the entry', async () => {
  const dir = await makeTempDir();
  try {
    const good = JSON.parse(readFileSync(dataFile('cpython-sources.json'), 'utf8')) as {
      source: string;
      versions: Array<Record<string, unknown>>;
    };
    const cases: Array<[(v: Array<Record<string, unknown>>) => void, RegExp]> = [
      [(v) => (v[0]!.origSha256 = 'abc'), /versions\[0\]\.origSha256: expected a string matching/],
      [(v) => (v[0]!.package = 'python3.99'), /versions\[0\]\.package: python3\.99 does not hold CPython 3\.11\.2/],
      [(v) => (v[0]!.directory = '../../etc'), /versions\[0\]\.directory/],
      [(v) => (v[0]!.orig = '../passwd'), /versions\[0\]\.orig/],
      [(v) => (v[0]!.origSize = 1e12), /versions\[0\]\.origSize/],
      [(v) => v.push({ ...v[0]! }), /versions: 3\.11\.2 listed twice/],
    ];
    for (const [spoil, expected] of cases) {
      const copy = structuredClone(good);
      spoil(copy.versions);
      const path = join(dir, 'cpython-sources.json');
      writeFileSync(path, JSON.stringify(copy));
      assert.throws(
        () => loadCpythonCatalog(path),
        (e: Error) => e.message.startsWith(`${path}: `) && expected.test(e.message),
      );
    }
  } finally {
    await removeDir(dir);
  }
});

function entry(version: string, dsc: string, orig: Buffer): CpythonSource {
  const pkg = `python${version.split('.').slice(0, 2).join('.')}`;
  return {
    version,
    package: pkg,
    debianVersion: `${version}-1`,
    suites: ['sid'],
    directory: `pool/main/p/${pkg}`,
    dsc: `${pkg}_${version}-1.dsc`,
    dscSha256: sha256(dsc),
    orig: `${pkg}_${version}.orig.tar.xz`,
    origSha256: sha256(orig),
    origSize: orig.length,
  };
}

function dscText(version: string, orig: Buffer): string {
  const pkg = `python${version.split('.').slice(0, 2).join('.')}`;
  return (
    `Format: 3.0 (quilt)\nSource: ${pkg}\nVersion: ${version}-1\nChecksums-Sha256:\n ${sha256(orig)} ` +
    `${orig.length} ${pkg}_${version}.orig.tar.xz\n`
  );
}

test('versions resolve from the catalog: a series to its newest final release, a release to itself', () => {
  const make = (version: string): CpythonSource => entry(version, version, Buffer.from(version));
  const catalog: CpythonCatalog = {
    source: 'test',
    path: 'test.json',
    versions: ['3.13.5', '3.13.18', '3.13.15', '3.14.0rc2', '3.14.9', '3.15.0a1', '3.15.0b2'].map(make),
  };
  assert.deepEqual(
    matchingSources(catalog, '3.13').map((v) => v.version),
    ['3.13.18', '3.13.15', '3.13.5'],
  );
  assert.deepEqual(
    matchingSources(catalog, '3.14').map((v) => v.version),
    ['3.14.9'],
  );
  // A series with only pre-releases: the newest of them.
  assert.deepEqual(
    matchingSources(catalog, '3.15').map((v) => v.version),
    ['3.15.0b2', '3.15.0a1'],
  );
  assert.deepEqual(
    matchingSources(catalog, '3.13.5').map((v) => v.version),
    ['3.13.5'],
  );
  assert.throws(
    () => matchingSources(catalog, '3.12'),
    (e: unknown) =>
      e instanceof BuildInputError &&
      e.message.startsWith('--python 3.12: no CPython 3.12 source is known (test.json lists 3.13.5, 3.13.15') &&
      e.message.includes('--python-source TARBALL'),
  );
  assert.throws(() => matchingSources(catalog, '3.13.6'), BuildInputError);
  // What is a version and what an interpreter.
  assert.equal(requestedVersion('3.13'), '3.13');
  assert.equal(requestedVersion('3.15.0a1'), '3.15.0a1');
  for (const interpreter of ['python3.13', '/usr/bin/python3', './3.13', '3', null])
    assert.equal(requestedVersion(interpreter), null);
  assert.throws(() => chooseMirror('ftp://x'), /^BuildInputError: --mirror ftp:\/\/x: expected an http/);
  assert.throws(() => chooseMirror(null, { PYRELO_MIRROR: 'not a url' }), /PYRELO_MIRROR not a url/);
  assert.equal(chooseMirror(null, {}), 'http://deb.debian.org/debian');
});

/** A loopback HTTP server serving `files` (URL path -> bytes); counts the requests. */
async function serve(files: Map<string, Buffer>): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`, requests };
}

test('the source comes from the mirror, checked against the .dsc; a tampered one is refused', async () => {
  const dir = await makeTempDir();
  const orig = Buffer.from('the pristine tarball of 3.99.2\n'.repeat(100));
  const older = Buffer.from('the pristine tarball of 3.99.1\n'.repeat(100));
  const newest = entry('3.99.2', dscText('3.99.2', orig), orig);
  const previous = entry('3.99.1', dscText('3.99.1', older), older);
  const catalog: CpythonCatalog = { source: 'test', path: 'test.json', versions: [previous, newest] };
  const files = new Map<string, Buffer>([
    [`/debian/${newest.directory}/${newest.dsc}`, Buffer.from(dscText('3.99.2', orig))],
    [`/debian/${newest.directory}/${newest.orig}`, orig],
  ]);
  const { server, url, requests } = await serve(files);
  try {
    // Fetched, checked, kept in the cache.
    const cache = join(dir, 'sources');
    const got = await sourceForVersion(catalog, '3.99', url, quiet(), cache);
    assert.equal(got.entry.version, '3.99.2');
    assert.deepEqual(readFileSync(got.tarball), orig);
    assert.ok(existsSync(join(cache, newest.dsc)));
    // From the cache the mirror is not asked.
    const asked = requests.length;
    await sourceForVersion(catalog, '3.99', 'http://127.0.0.1:9/nowhere', quiet(), cache);
    assert.equal(requests.length, asked);

    // A tampered tarball (same size): refused, nothing kept.
    const tampered = Buffer.from(orig);
    tampered[10] = tampered[10]! ^ 1;
    files.set(`/debian/${newest.directory}/${newest.orig}`, tampered);
    const fresh = join(dir, 'fresh');
    await assert.rejects(
      sourceForVersion(catalog, '3.99', url, quiet(), fresh),
      (e: unknown) =>
        e instanceof BuildInputError &&
        e.message.startsWith(
          `--python 3.99: ${url}/${newest.directory}/${newest.orig} has sha256 ${sha256(tampered)}, its .dsc ` +
            `lists ${newest.origSha256}; nothing was compiled: use a mirror`,
        ) &&
        e.message.includes('--python-source TARBALL'),
    );
    assert.equal(existsSync(fresh) ? readdirSync(fresh).length : 0, 0);
    // A tarball larger than the index says is cut off, not read to the end.
    files.set(`/debian/${newest.directory}/${newest.orig}`, Buffer.concat([orig, Buffer.alloc(1 << 20)]));
    await assert.rejects(sourceForVersion(catalog, '3.99', url, quiet(), fresh), /more than the \d+ bytes expected/);
    // A tampered .dsc (naming the tampered tarball's hash): refused at the .dsc.
    files.set(`/debian/${newest.directory}/${newest.dsc}`, Buffer.from(dscText('3.99.2', tampered)));
    files.set(`/debian/${newest.directory}/${newest.orig}`, tampered);
    await assert.rejects(
      sourceForVersion(catalog, '3.99', url, quiet(), fresh),
      /has sha256 [0-9a-f]{64}, the archive's index said/,
    );
    assert.equal(existsSync(fresh) ? readdirSync(fresh).length : 0, 0);

    // A mirror without the newest release: the newest it has, with a note.
    files.clear();
    files.set(`/debian/${previous.directory}/${previous.dsc}`, Buffer.from(dscText('3.99.1', older)));
    files.set(`/debian/${previous.directory}/${previous.orig}`, older);
    const lines: string[] = [];
    const fallback = await sourceForVersion(catalog, '3.99', url, quiet(lines), join(dir, 'lagging'));
    assert.equal(fallback.entry.version, '3.99.1');
    assert.ok(lines.some((l) => l.includes(`CPython 3.99.2: ${url}/${newest.directory}/${newest.dsc}: HTTP 404`)));
    // …but an exact release it lacks is an error with the ways out.
    await assert.rejects(
      sourceForVersion(catalog, '3.99.2', url, quiet(), join(dir, 'lagging')),
      /^BuildInputError: --python 3\.99\.2: the mirror http:\/\/127\.0\.0\.1:\d+\/debian holds none of 3\.99\.2 \(.*HTTP 404\); use a mirror that does/,
    );
  } finally {
    server.close();
    await removeDir(dir);
  }
});

test(
  'pyrelo build --python 3.11 from a file:// mirror with a tampered tarball: exit 2, one line, nothing written',
  { timeout: 300_000 },
  async () => {
    await ensureCpythonSource();
    const dir = await makeTempDir();
    try {
      const pool = join(dir, 'mirror', POOL);
      mkdirSync(pool, { recursive: true });
      copyFileSync(join(SOURCE_CACHE, DSC), join(pool, DSC));
      const bytes = readFileSync(join(SOURCE_CACHE, ORIG));
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x40;
      writeFileSync(join(pool, ORIG), bytes);
      const cache = join(dir, 'cache');
      const mirror = pathToFileURL(join(dir, 'mirror')).href;
      const r = await execa(process.execPath, [PYRELO, 'build', '--python', '3.11', '--mirror', mirror, '-o', 'out'], {
        cwd: dir,
        env: { PYRELO_CACHE: cache },
        reject: false,
      });
      assert.equal(r.exitCode, 2, r.stderr);
      const last = r.stderr.trim().split('\n').at(-1)!;
      assert.match(
        last,
        new RegExp(
          `^pyrelo: --python 3\\.11: ${mirror}/${POOL}/${ORIG.replace(/\./g, '\\.')} has sha256 ` +
            `${sha256(bytes)}, its \\.dsc lists 2411c74b[0-9a-f]+; nothing was compiled: use a mirror that holds ` +
            'an intact copy \\(--mirror URL or PYRELO_MIRROR\\), or compile a tarball you trust with ' +
            '--python-source TARBALL$',
        ),
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(existsSync(join(dir, 'out')), false);
      assert.deepEqual(
        readdirSync(dir).sort(),
        ['cache', 'mirror'].filter((n) => existsSync(join(dir, n))),
      );
      assert.equal(existsSync(join(cache, 'sources', ORIG)), false);
      assert.equal(existsSync(join(cache, 'cpython')), false);
    } finally {
      await removeDir(dir);
    }
  },
);

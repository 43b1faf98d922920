// Issue 13 item 6: extraction must not decompress a whole archive with no limit. The bomb is a
// real bundle's pyrelo.json (declaring a 16 KB bin/python3) in an archive whose bin/python3 is
// 2 GiB of zeros: 2 MB gzipped, placed before pyrelo.json as pack's byte order places it.
// `pyrelo unpack` of it exits 2 with one line naming the archive, its peak RSS stays far below the
// expansion and nothing is written; `pyrelo bundles add` of it to a real server process is refused
// the same way without the server's RSS growing, and the store keeps nothing of it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { execa } from 'execa';
import { makeBundle } from '../server/fixtures.js';
import { rssOf, startFleet, type Fleet } from './fleet.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');
const BOMB_BYTES = 2 * 1024 ** 3;

let work: string;
let bomb: string;

/** A ustar header (what GNU tar and busybox read). */
function tarHeader(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** bin/, then bin/python3 of `size` zero bytes, then pyrelo.json: streamed through gzip, never held. */
function writeBomb(file: string, manifest: Buffer, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const gzip = createGzip({ level: 1 });
    const out = createWriteStream(file);
    gzip.pipe(out);
    out.on('finish', resolve);
    out.on('error', reject);
    gzip.write(tarHeader('bin/', 0, '5', 0o755));
    gzip.write(tarHeader('bin/python3', size, '0', 0o755));
    const zeros = Buffer.alloc(1 << 20);
    let left = size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, zeros.length);
        left -= n;
        if (!gzip.write(zeros.subarray(0, n))) return void gzip.once('drain', pump);
      }
      gzip.write(tarHeader('pyrelo.json', manifest.length, '0', 0o644));
      gzip.write(Buffer.concat([manifest, Buffer.alloc((512 - (manifest.length % 512)) % 512)]));
      gzip.end(Buffer.alloc(1024));
    };
    pump();
  });
}

/** Runs the CLI; resolves with its exit code, output and peak RSS (VmHWM, polled until it exits). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; peakRss: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakRss = 0;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const poll = setInterval(() => {
      try {
        const line = readFileSync(`/proc/${child.pid}/status`, 'utf8')
          .split('\n')
          .find((l) => l.startsWith('VmHWM:'));
        peakRss = Math.max(peakRss, Number(line?.split(/\s+/)[1] ?? 0) * 1024);
      } catch {
        /* exited */
      }
    }, 20);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stdout, stderr, peakRss });
    });
  });
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-archive-'));
  const real = await makeBundle(work, 'bomb-app', 'host-libc');
  mkdirSync(join(work, 'real'));
  await execa('tar', ['-xzf', real, '-C', join(work, 'real')]);
  bomb = join(work, 'bomb.tar.gz');
  await writeBomb(bomb, readFileSync(join(work, 'real', 'pyrelo.json')), BOMB_BYTES);
});

after(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

test(
  'pyrelo unpack of a 2 GiB bomb exits 2 with one line naming the archive, stays small and writes nothing',
  { timeout: 180_000 },
  async () => {
    const destination = join(work, 'unpacked');
    const run = await runCli(['unpack', bomb, destination]);
    assert.equal(run.code, 2, `exit code (stderr: ${run.stderr})`);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${run.stderr}`);
    assert.match(
      lines[0]!,
      new RegExp(
        `${bomb.replaceAll('/', '\\/').replaceAll('.', '\\.')}: expands to more than its pyrelo\\.json declares`,
      ),
    );
    assert.ok(
      run.peakRss < 256 * 1024 ** 2,
      `peak RSS ${Math.round(run.peakRss / 2 ** 20)} MiB, far below the 2 GiB expansion`,
    );
    assert.equal(existsSync(destination), false, 'no destination');
    assert.deepEqual(
      readdirSync(work).filter((n) => n.startsWith('.unpacked') || n.startsWith('unpacked')),
      [],
      'no temporary folder left',
    );
  },
);

test(
  'bundles add of the same bomb is refused by a real server process without its RSS growing',
  { timeout: 180_000 },
  async () => {
    const fleet: Fleet = await startFleet(join(work, 'fleet'));
    try {
      const pid = fleet.server.pid!;
      const before = rssOf(pid);
      let peak = before;
      const poll = setInterval(() => {
        peak = Math.max(peak, rssOf(pid));
      }, 20);
      const run = await runCli(['bundles', 'add', bomb, '--control', fleet.control.address]);
      clearInterval(poll);
      assert.equal(run.code, 2, `exit code (stderr: ${run.stderr})`);
      assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
      assert.match(run.stderr, /expands to more than its pyrelo\.json declares/);
      assert.ok(peak - before < 256 * 1024 ** 2, `server RSS grew by ${Math.round((peak - before) / 2 ** 20)} MiB`);
      assert.equal(fleet.server.exitCode, null, 'the server is still running');
      const store = join(fleet.dir, 'server', 'bundles');
      const kept = existsSync(store)
        ? readdirSync(store, { recursive: true })
            .map(String)
            .filter((n) => !['incoming', 'archives', 'trees'].includes(n))
        : [];
      assert.deepEqual(kept, [], 'the store keeps nothing of the bomb');
    } finally {
      await fleet.stop();
    }
  },
);

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir, canCompile32 } from './fixtures.js';
import {
  DEFAULT_LDSO,
  createHostRunner,
  foundObjects,
  hostRunner,
  missingObjects,
  parseTrace,
  traceManyWithRealLoader,
  traceWithRealLoader,
  type RealLoaderTrace,
} from './real-loader.js';

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** A trace without what changes from run to run (load addresses). */
function stable(t: RealLoaderTrace): unknown {
  return { ...t, stdout: t.stdout.replace(/\(0x[0-9a-f]+\)/g, '(0xADDR)') };
}

describe('parseTrace (formats of glibc rtld.c / dl-version.c / dl-lookup.c)', () => {
  test('object lines, vDSO excluded, loader kept, paths with spaces and arrows', () => {
    const out =
      '\tlinux-vdso.so.1 (0x00007ffd5bb000)\n' +
      '\tlibfoo.so.1 => /opt/my dir/lib => x/libfoo.so.1 (0x00007f1000000000)\n' +
      '\tlibbar.so.2 => not found\n' +
      '\t/abs/with space/libslash.so (0x00007f2000000000)\n' +
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f3000000000)\n';
    const t = parseTrace('/bin/prog', 0, out, '');
    assert.deepEqual(t.objects, [
      { name: 'libfoo.so.1', path: '/opt/my dir/lib => x/libfoo.so.1' },
      { name: 'libbar.so.2', path: null },
      { name: '/abs/with space/libslash.so', path: '/abs/with space/libslash.so' },
      { name: '/lib64/ld-linux-x86-64.so.2', path: '/lib64/ld-linux-x86-64.so.2' },
    ]);
    assert.deepEqual(t.unrecognized, []);
    assert.deepEqual(missingObjects(t), ['libbar.so.2']);
    assert.equal(foundObjects(t).get('libfoo.so.1'), '/opt/my dir/lib => x/libfoo.so.1');
  });

  test('i386: linux-gate vDSO excluded, 8-digit addresses', () => {
    const t = parseTrace(
      '/x/m32',
      0,
      '\tlinux-gate.so.1 (0xf7f2d000)\n\tlibc.so.6 => /lib32/libc.so.6 (0xf7cee000)\n\t/lib/ld-linux.so.2 ' +
        '(0xf7f2f000)\n',
      '',
    );
    assert.deepEqual(
      t.objects.map((o) => o.name),
      ['libc.so.6', '/lib/ld-linux.so.2'],
    );
  });

  test('statically linked (traced, no DT_NEEDED) / not a dynamic executable (not traced)', () => {
    const s = parseTrace('/x', 0, '\tstatically linked\n', 'undefined symbol: PyFloat_Type\t(/x)\n');
    assert.equal(s.noNeeded, true);
    assert.equal(s.notDynamic, false);
    assert.deepEqual(s.undefinedSymbols, [{ symbol: 'PyFloat_Type', version: null, object: '/x' }]);
    const t = parseTrace('/x', 1, '', '\tnot a dynamic executable\n');
    assert.equal(t.notDynamic, true);
    assert.equal(t.noNeeded, false);
    assert.equal(t.fatal, null);
  });

  test('version problems, undefined symbols', () => {
    const err =
      "./p: old/lib v.so.1: version `V2' not found (required by ./p)\n" +
      "./p: /l/libw.so.1: weak version `W2' not found (required by /l/libx.so)\n" +
      './p: nover/libv.so.1: no version information available (required by ./p)\n' +
      'undefined symbol: foo, version V2\t(./p)\n' +
      'undefined symbol: _ZN3fooC1Ev\t(/opt/a b/libq.so)\n';
    const t = parseTrace('p', 0, '', err);
    assert.deepEqual(t.versionErrors, [
      { provider: 'old/lib v.so.1', version: 'V2', requiredBy: './p', weak: false },
      { provider: '/l/libw.so.1', version: 'W2', requiredBy: '/l/libx.so', weak: true },
    ]);
    assert.deepEqual(t.noVersionInfo, [{ provider: 'nover/libv.so.1', requiredBy: './p' }]);
    assert.deepEqual(t.undefinedSymbols, [
      { symbol: 'foo', version: 'V2', object: './p' },
      { symbol: '_ZN3fooC1Ev', version: null, object: '/opt/a b/libq.so' },
    ]);
    assert.deepEqual(t.unrecognized, []);
  });

  test('fatal lines', () => {
    const t = parseTrace('/d/p', 127, '', '/d/p: error while loading shared libraries: /e/libx.so.1: file too short\n');
    assert.equal(t.fatal, 'error while loading shared libraries: /e/libx.so.1: file too short');
    const a = parseTrace(
      '/d/p',
      127,
      '',
      "Inconsistency detected by ld.so: dl-lookup.c: 107: check_match: Assertion `x' failed!\n",
    );
    assert.match(a.fatal ?? '', /^Inconsistency detected by ld\.so: /);
    assert.equal(
      parseTrace('/n', 1, '', 'ldd: /n: No such file or directory\n').fatal,
      'ldd: /n: No such file or directory',
    );
  });
});

describe('hostRunner', () => {
  test('the environment is replaced: exactly what is given plus PATH', async () => {
    const saved = process.env.LD_LIBRARY_PATH;
    process.env.LD_LIBRARY_PATH = '/should/not/leak';
    try {
      const r = await hostRunner(['/usr/bin/env'], { FOO: 'a b' });
      const lines = r.stdout.trim().split('\n').sort();
      assert.deepEqual(lines, ['FOO=a b', `PATH=${process.env.PATH}`].sort());
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved;
    }
  });

  test('a signal death is 128 + signo, like a shell', async () => {
    const r = await hostRunner(['/bin/sh', '-c', 'kill -SEGV $$'], {});
    assert.equal(r.exitCode, 139);
  });

  test('cwd', async () => {
    const r = await createHostRunner({ cwd: '/usr' })(['/bin/pwd'], {});
    assert.equal(r.stdout, '/usr\n');
  });
});

describe('traceWithRealLoader on this machine', () => {
  let dir = '';
  let progMissing = '';
  let progSpace = '';
  let textFile = '';
  before(async () => {
    dir = await makeTempDir('pyrelo-rl-');
    const stub = await compileSharedLibrary({
      dir,
      file: '.build/stub/libabsent.so.1',
      soname: 'libabsent.so.1',
      source: 'int absent(void){return 0;}\n',
    });
    progMissing = await compileExecutable({
      dir,
      file: 'prog-missing',
      source: 'extern int absent(void);\nint main(void){return absent();}\n',
      needed: [stub],
    });
    const spaced = join(dir, 'a dir => with arrow');
    const libSp = await compileSharedLibrary({
      dir,
      file: join(spaced, 'libsp.so.1'),
      soname: 'libsp.so.1',
      source: 'int sp(void){return 0;}\n',
    });
    progSpace = await compileExecutable({
      dir,
      file: 'prog space',
      source: 'extern int sp(void);\nint main(void){return sp();}\n',
      needed: [libSp],
      runpath: spaced,
    });
    textFile = join(dir, 'notes.txt');
    await writeFile(textFile, 'hello\n');
  });
  after(async () => removeDir(dir));

  test('/usr/bin/ls: found objects, loader last, vDSO left out', async () => {
    const t = await traceWithRealLoader('/usr/bin/ls');
    assert.equal(t.exitCode, 0);
    assert.equal(t.notDynamic, false);
    assert.equal(t.fatal, null);
    assert.deepEqual(t.unrecognized, []);
    assert.equal(t.stderr, '');
    assert.match(foundObjects(t).get('libc.so.6') ?? '', /\/libc\.so\.6$/);
    assert.equal(t.objects.at(-1)?.name, DEFAULT_LDSO);
    assert.ok(!t.objects.some((o) => o.name.startsWith('linux-vdso')));
  });

  test('a missing library: "=> not found" on stdout, exit 0; -r adds the undefined symbol on stderr', async () => {
    const t = await traceWithRealLoader(progMissing);
    assert.equal(t.exitCode, 0);
    assert.deepEqual(missingObjects(t), ['libabsent.so.1']);
    assert.deepEqual(t.undefinedSymbols, []);
    const r = await traceWithRealLoader(progMissing, { bindNow: true });
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.undefinedSymbols, [{ symbol: 'absent', version: null, object: progMissing }]);
    assert.deepEqual(r.unrecognized, []);
  });

  test('host LD_LIBRARY_PATH does not leak into the loader', async () => {
    const saved = process.env.LD_LIBRARY_PATH;
    process.env.LD_LIBRARY_PATH = join(dir, '.build/stub');
    try {
      const t = await traceWithRealLoader(progMissing);
      assert.deepEqual(missingObjects(t), ['libabsent.so.1']);
      const withEnv = await traceWithRealLoader(progMissing, { env: { LD_LIBRARY_PATH: join(dir, '.build/stub') } });
      assert.equal(foundObjects(withEnv).get('libabsent.so.1'), join(dir, '.build/stub/libabsent.so.1'));
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved;
    }
  });

  test('paths with spaces and " => "', async () => {
    const t = await traceWithRealLoader(progSpace);
    assert.equal(foundObjects(t).get('libsp.so.1'), join(dir, 'a dir => with arrow', 'libsp.so.1'));
    assert.deepEqual(t.unrecognized, []);
  });

  test('a static program (busybox if installed): "not a dynamic executable", exit 1', async (ctx) => {
    if (!(await exists('/bin/busybox'))) return ctx.skip('no /bin/busybox');
    const t = await traceWithRealLoader('/bin/busybox');
    assert.equal(t.notDynamic, true);
    assert.equal(t.exitCode, 1);
    assert.equal(t.stdout, '');
    assert.equal(t.stderr, '\tnot a dynamic executable\n');
    assert.deepEqual(t.objects, []);
  });

  test('ld.so itself (no DT_NEEDED, --verify 2): "statically linked", exit 0', async () => {
    const t = await traceWithRealLoader(DEFAULT_LDSO);
    assert.equal(t.noNeeded, true);
    assert.equal(t.notDynamic, false);
    assert.equal(t.exitCode, 0);
    assert.equal(t.stdout, '\tstatically linked\n');
  });

  test('a text file: not a dynamic executable', async () => {
    const t = await traceWithRealLoader(textFile);
    assert.equal(t.notDynamic, true);
    assert.equal(t.exitCode, 1);
  });

  test('files ldd refuses itself: missing, directory', async () => {
    const m = await traceWithRealLoader(join(dir, 'nope'));
    assert.equal(m.fatal, `ldd: ${join(dir, 'nope')}: No such file or directory`);
    assert.equal(m.exitCode, 1);
    const d = await traceWithRealLoader(dir);
    assert.equal(d.fatal, `ldd: ${dir}: not regular file`);
  });

  test('a bare name is passed as ./name (relative to the runner cwd)', async () => {
    const t = await traceWithRealLoader('prog-missing', { runner: createHostRunner({ cwd: dir }) });
    assert.deepEqual(missingObjects(t), ['libabsent.so.1']);
  });

  test(
    'a 32-bit program: not dynamic for the x86-64 ' + 'loader; traced by /lib/ld-linux.so.2 when present',
    async (ctx) => {
      if (!(await canCompile32())) return ctx.skip('gcc -m32 unavailable');
      const p32 = await compileExecutable({ dir, file: 'prog32', source: 'int main(void){return 0;}\n', m32: true });
      const t = await traceWithRealLoader(p32);
      assert.equal(t.notDynamic, true);
      assert.equal(t.exitCode, 1);
      if (!(await exists('/lib/ld-linux.so.2')))
        return ctx.skip('the 64-bit half passed; no 32-bit loader /lib/ld-linux.so.2 (libc6-i386) for the other');
      const t32 = await traceWithRealLoader(p32, { ldso: '/lib/ld-linux.so.2' });
      assert.equal(t32.exitCode, 0);
      assert.deepEqual(t32.unrecognized, []);
      assert.ok(foundObjects(t32).has('libc.so.6'));
      assert.match(t32.stdout, /\(0x[0-9a-f]{8}\)\n/);
      assert.ok(!t32.objects.some((o) => o.name.startsWith('linux-gate')));
    },
  );

  test('matches /usr/bin/ldd line for line (addresses aside, ldd merges the streams)', async () => {
    const norm = (s: string) =>
      s
        .replace(/\(0x[0-9a-f]+\)/g, '(0xADDR)')
        .split('\n')
        .filter((l) => l !== '')
        .sort();
    for (const [file, flags] of [
      ['/usr/bin/ls', []],
      [progMissing, []],
      [progMissing, ['-r']],
      [progSpace, ['-r']],
      [textFile, []],
    ] as const) {
      const ldd = await execa('/usr/bin/ldd', [...flags, file], {
        reject: false,
        env: { LC_ALL: 'C' },
        extendEnv: false,
        all: true,
      });
      const ours = await traceWithRealLoader(file, { bindNow: flags.length > 0 });
      assert.deepEqual(norm(ours.stdout + ours.stderr), norm(String(ldd.all)), `${flags.join(' ')} ${file}`);
    }
  });

  test('traceManyWithRealLoader gives the same results as one-by-one on ~50 files', async () => {
    const files: string[] = [];
    for (const name of (await readdir('/usr/bin')).sort()) {
      if (files.length >= 40) break;
      const p = join('/usr/bin', name);
      try {
        const head = (await readFile(p)).subarray(0, 4);
        if (head.toString('latin1') === '\x7fELF') files.push(p);
      } catch {
        // unreadable or a directory
      }
    }
    files.push(progMissing, progSpace, textFile, join(dir, 'nope'), dir, DEFAULT_LDSO, 'it\'s "quoted" $HOME `x`');
    if (await exists('/bin/busybox')) files.push('/bin/busybox');
    assert.ok(files.length >= 45, `only ${files.length} files`);
    for (const bindNow of [false, true]) {
      const many = await traceManyWithRealLoader(files, { batchSize: 16, bindNow });
      assert.equal(many.length, files.length);
      for (let i = 0; i < files.length; i++) {
        const file = files[i] as string;
        const one = await traceWithRealLoader(file, { bindNow });
        assert.deepEqual(stable(many[i] as RealLoaderTrace), stable(one), file);
      }
    }
  });
});

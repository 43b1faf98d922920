// Builds every scenario and proves, with the real ld.so (ldd -r semantics),
// that each shows what it claims. The traces are written to
// <scenario dir>/real-loader-trace.json for inspection.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { elf32HeaderOnly, makeTempDir, removeDir } from './fixtures.js';
import {
  createHostRunner,
  foundObjects,
  missingObjects,
  traceWithRealLoader,
  type RealLoaderTrace,
} from './real-loader.js';
import { scenarioBuilders, traceScenario, type Scenario } from './scenarios.js';

interface Built {
  scenario: Scenario;
  traces: Map<string, RealLoaderTrace>;
  plain: Map<string, RealLoaderTrace>;
}

let base = '';
const built = new Map<string, Built>();

function get(name: string): Built {
  const b = built.get(name);
  if (!b) throw new Error(`scenario ${name} not built`);
  return b;
}

function traceOf(name: string, role: string, bindNow = true): RealLoaderTrace {
  const b = get(name);
  const file = b.scenario.roles[role];
  if (file === undefined) throw new Error(`${name}: no role ${role}`);
  const t = (bindNow ? b.traces : b.plain).get(file);
  if (!t) throw new Error(`${name}: ${role} (${file}) was not traced`);
  return t;
}

const clean = (t: RealLoaderTrace) => {
  assert.equal(t.fatal, null, t.stderr);
  assert.deepEqual(t.versionErrors, [], t.stderr);
  assert.deepEqual(t.undefinedSymbols, [], t.stderr);
  assert.deepEqual(missingObjects(t), [], t.stdout);
  assert.equal(t.exitCode, 0);
};

before(async () => {
  base = await makeTempDir('pyrelo-scenarios-');
  const started = Date.now();
  const scenarios = await Promise.all(Object.values(scenarioBuilders).map((b) => b(base)));
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 20_000, `building all scenarios took ${elapsed} ms`);
  for (const s of scenarios) {
    const traces = await traceScenario(s, { bindNow: true });
    const plain = await traceScenario(s, { bindNow: false });
    const toMap = (ts: RealLoaderTrace[]) => new Map(s.files.map((f, i) => [f, ts[i] as RealLoaderTrace]));
    built.set(s.name, { scenario: s, traces: toMap(traces), plain: toMap(plain) });
    const record = traces.map(({ stdout, stderr, ...rest }) => ({
      ...rest,
      stdout: stdout.replace(/\(0x[0-9a-f]+\)/g, '(0xADDR)'),
      stderr,
    }));
    await writeFile(
      join(s.dir, 'real-loader-trace.json'),
      JSON.stringify({ env: s.env, cwd: s.cwd ?? null, traces: record }, null, 2),
    );
  }
});

after(async () => removeDir(base));

describe('scenarios, proven against the real loader', () => {
  test('every scenario is built, has absolute files, and every trace line is understood', () => {
    assert.equal(built.size, Object.keys(scenarioBuilders).length);
    for (const { scenario, traces, plain } of built.values()) {
      assert.ok(scenario.files.length > 0, scenario.name);
      for (const f of scenario.files) assert.ok(f.startsWith('/'), f);
      for (const t of [...traces.values(), ...plain.values()]) {
        assert.deepEqual(t.unrecognized, [], `${scenario.name}: ${t.file}\n${t.stdout}${t.stderr}`);
        assert.equal(t.notDynamic, false, t.file);
      }
    }
  });

  test('batched traces equal one-by-one traces for every scenario file', async () => {
    const addr = (t: RealLoaderTrace) => ({ ...t, stdout: t.stdout.replace(/\(0x[0-9a-f]+\)/g, '(0xADDR)') });
    for (const { scenario, traces } of built.values()) {
      const runner = createHostRunner(scenario.cwd !== undefined ? { cwd: scenario.cwd } : {});
      for (const f of scenario.files) {
        const one = await traceWithRealLoader(f, { env: scenario.env, bindNow: true, runner });
        assert.deepEqual(addr(traces.get(f) as RealLoaderTrace), addr(one), f);
      }
    }
  });

  test('the recorded trace file is written', async () => {
    const s = get('missing-library').scenario;
    const rec = JSON.parse(await readFile(join(s.dir, 'real-loader-trace.json'), 'utf8')) as { traces: unknown[] };
    assert.equal(rec.traces.length, s.files.length);
  });

  test('version-script-two-versions', () => {
    const n = 'version-script-two-versions';
    const { roles } = get(n).scenario;
    for (const r of ['newLib', 'oldLib', 'v1New', 'v2New', 'v1Old']) clean(traceOf(n, r));
    assert.equal(foundObjects(traceOf(n, 'v1Old')).get('libv.so.1'), roles.oldLib);
    const t = traceOf(n, 'v2Old');
    assert.equal(foundObjects(t).get('libv.so.1'), roles.oldLib);
    assert.deepEqual(t.versionErrors, [
      { provider: roles.oldLib, version: 'V2', requiredBy: roles.v2Old, weak: false },
    ]);
    assert.deepEqual(t.undefinedSymbols, [{ symbol: 'foo', version: 'V2', object: roles.v2Old }]);
    assert.equal(t.exitCode, 0, 'a missing version is not fatal in trace mode');
    assert.deepEqual(
      traceOf(n, 'v2Old', false).undefinedSymbols,
      [],
      'undefined symbols only with LD_WARN/LD_BIND_NOW',
    );
  });

  test('rpath-vs-runpath-chain', () => {
    const n = 'rpath-vs-runpath-chain';
    const { roles } = get(n).scenario;
    const viaRpath = traceOf(n, 'progRpath');
    clean(viaRpath);
    assert.equal(foundObjects(viaRpath).get('libA.so.1'), roles.libA);
    assert.equal(foundObjects(viaRpath).get('libB.so.1'), roles.libB, "libB through the program's inherited RPATH");
    const viaRunpath = traceOf(n, 'progRunpath');
    assert.equal(foundObjects(viaRunpath).get('libA.so.1'), roles.libA);
    assert.deepEqual(missingObjects(viaRunpath), ['libB.so.1'], 'RUNPATH is not inherited');
    const both = traceOf(n, 'progBoth');
    assert.deepEqual(missingObjects(both), ['libA.so.1'], 'RPATH ignored when RUNPATH is present');
    assert.ok(!both.objects.some((o) => o.name === 'libB.so.1'), 'a faked object has no dependencies');
  });

  test('rpath-vs-runpath-chain: prog-both really has both tags', async () => {
    const r = await execa('readelf', ['-d', get('rpath-vs-runpath-chain').scenario.roles.progBoth as string]);
    assert.match(r.stdout, /\(RPATH\)\s+Library rpath: \[.*\/rp\]/);
    assert.match(r.stdout, /\(RUNPATH\)\s+Library runpath: \[.*\/empty\]/);
    assert.doesNotMatch(r.stdout, /\(AUDIT\)/);
  });

  test('origin', async () => {
    const n = 'origin';
    const { dir, roles } = get(n).scenario;
    const t = traceOf(n, 'prog');
    clean(t);
    assert.equal(
      foundObjects(t).get('liborigin.so.1'),
      `${dir}/app/bin/../lib/liborigin.so.1`,
      '$ORIGIN is not normalised',
    );
    assert.equal(foundObjects(t).get('libbrace.so.1'), `${dir}/app/bin/../lib2/libbrace.so.1`, '${ORIGIN}');
    assert.equal(
      foundObjects(t).get('libodep.so.1'),
      `${dir}/app/bin/../lib/dep/libodep.so.1`,
      "a library's $ORIGIN is the dir it was opened from",
    );
    const viaLink = traceOf(n, 'link');
    assert.deepEqual(
      missingObjects(viaLink),
      ['liborigin.so.1', 'libbrace.so.1'],
      '$ORIGIN of the path as typed (the symlink dir)',
    );
    // Executed normally, the kernel gives ld.so /proc/self/exe = the real file: it runs.
    const run = await execa(roles.link as string, [], { reject: false, env: {}, extendEnv: false });
    assert.equal(run.exitCode, 0, run.stderr);
  });

  test('missing-library', () => {
    const t = traceOf('missing-library', 'prog');
    assert.deepEqual(missingObjects(t), ['libnowhere.so.1']);
    assert.match(t.stdout, /\tlibnowhere\.so\.1 => not found\n/);
    assert.equal(t.exitCode, 0);
    assert.deepEqual(
      t.undefinedSymbols.map((u) => u.symbol),
      ['nowhere'],
    );
  });

  test('no-version-information', async () => {
    const n = 'no-version-information';
    const { roles } = get(n).scenario;
    const t = traceOf(n, 'prog');
    assert.deepEqual(t.noVersionInfo, [{ provider: roles.oldLib, requiredBy: roles.prog }]);
    assert.deepEqual(t.versionErrors, []);
    assert.deepEqual(t.undefinedSymbols, []);
    assert.equal(t.exitCode, 0);
    // Outside trace mode it is only a warning: the program runs and ld.so says the same words.
    const run = await execa(roles.prog as string, [], { reject: false, env: {}, extendEnv: false });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(
      run.stderr,
      `${roles.prog}: ${roles.oldLib}: no version information available (required by ${roles.prog})`,
    );
  });

  test('weak-version', async () => {
    const n = 'weak-version';
    const { roles } = get(n).scenario;
    const weak = traceOf(n, 'progWeak');
    assert.deepEqual(weak.versionErrors, [
      { provider: roles.oldLib, version: 'W2', requiredBy: roles.progWeak, weak: true },
    ]);
    assert.deepEqual(weak.undefinedSymbols, [], 'w2func is a weak reference');
    assert.equal(weak.exitCode, 0);
    const strong = traceOf(n, 'progStrong');
    assert.deepEqual(strong.versionErrors, [
      { provider: roles.oldLib, version: 'W2', requiredBy: roles.progStrong, weak: false },
    ]);
    const r = await execa('readelf', ['-V', roles.progWeak as string]);
    assert.match(r.stdout, /Name: W2\s+Flags: WEAK/);
    // Outside trace mode: the weak one runs, the strong one is refused.
    const runWeak = await execa(roles.progWeak as string, [], { reject: false, env: {}, extendEnv: false });
    assert.equal(runWeak.exitCode, 0, runWeak.stderr);
    const runStrong = await execa(roles.progStrong as string, [], { reject: false, env: {}, extendEnv: false });
    assert.equal(runStrong.exitCode, 1);
    assert.match(runStrong.stderr, /version `W2' not found/);
  });

  test('wrong-class-first', async () => {
    const n = 'wrong-class-first';
    const { roles, env } = get(n).scenario;
    const t = traceOf(n, 'prog');
    clean(t);
    assert.equal(foundObjects(t).get('libwc.so.1'), roles.lib64, 'the 32-bit candidates are skipped');
    const only = traceOf(n, 'progOnly32');
    assert.deepEqual(
      missingObjects(only),
      ['libonly32.so.1'],
      'in trace mode a wrong-class-only candidate is just "not found"',
    );
    const run = await execa(roles.progOnly32 as string, [], { reject: false, env, extendEnv: false });
    assert.equal(run.exitCode, 127);
    assert.match(run.stderr, /error while loading shared libraries: libonly32\.so\.1: wrong ELF class: ELFCLASS32$/m);
  });

  test('wrong-class: an unpadded 52-byte ELF32 header is "file too short", not skipped', async () => {
    const n = 'wrong-class-first';
    const { roles, env } = get(n).scenario;
    const header = roles.header32 as string;
    const padded = await readFile(header);
    try {
      await writeFile(header, elf32HeaderOnly(52));
      const t = await traceWithRealLoader(roles.prog as string, { env, bindNow: true });
      assert.equal(t.fatal, `error while loading shared libraries: ${header}: file too short`);
      assert.equal(t.exitCode, 127);
    } finally {
      await writeFile(header, padded);
    }
  });

  test('symbol-dropped', () => {
    const n = 'symbol-dropped';
    const { roles } = get(n).scenario;
    clean(traceOf(n, 'progNew'));
    const t = traceOf(n, 'progOld');
    assert.equal(foundObjects(t).get('libs.so.1'), roles.oldLib);
    assert.deepEqual(t.undefinedSymbols, [{ symbol: 'baz', version: null, object: roles.progOld }]);
    assert.deepEqual(
      traceOf(n, 'progOld', false).undefinedSymbols,
      [],
      'plain ldd: PLT calls bind lazily, nothing said',
    );
  });

  test('nodeflib', () => {
    const n = 'nodeflib';
    const soname = get(n).scenario.roles.systemSoname as string;
    const prog = traceOf(n, 'prog');
    assert.deepEqual(
      missingObjects(prog),
      [soname],
      'needed by the nodefaultlib library: not found although the system has it',
    );
    assert.ok(foundObjects(prog).has('libc.so.6'), "the program's own needs still use the default directories");
    assert.deepEqual(missingObjects(traceOf(n, 'libNd')), [soname]);
    assert.deepEqual(missingObjects(traceOf(n, 'progNodeflib')), [soname]);
  });

  test('nodeflib-library-path', () => {
    const n = 'nodeflib-library-path';
    const { roles } = get(n).scenario;
    const soname = roles.systemSoname as string;
    for (const r of ['prog', 'libNd', 'progNodeflib']) {
      const t = traceOf(n, r);
      clean(t);
      assert.equal(foundObjects(t).get(soname), roles.systemLibrary, r);
    }
  });

  test('needed-with-slash', async () => {
    const n = 'needed-with-slash';
    const { roles, env } = get(n).scenario;
    const abs = traceOf(n, 'progAbs');
    clean(abs);
    assert.deepEqual(abs.objects[0], { name: roles.abs, path: roles.abs }, 'printed as "\\tPATH (0x…)"');
    const rel = traceOf(n, 'progRel');
    clean(rel);
    assert.deepEqual(
      rel.objects[0],
      { name: 'sub/librel.so', path: 'sub/librel.so' },
      'relative to the cwd, the decoy is not used',
    );
    const gone = traceOf(n, 'progGone');
    assert.deepEqual(missingObjects(gone), [roles.gone]);
    const elsewhere = await traceWithRealLoader(roles.progRel as string, {
      env,
      runner: createHostRunner({ cwd: '/' }),
    });
    assert.deepEqual(missingObjects(elsewhere), ['sub/librel.so'], 'from another cwd: not found, no search');
  });

  test('soname-reuse', () => {
    const n = 'soname-reuse';
    const { roles } = get(n).scenario;
    const t = traceOf(n, 'progReuse');
    clean(t);
    assert.equal(foundObjects(t).get('libreal.so.1'), roles.real);
    assert.ok(
      !t.objects.some((o) => o.name === 'libalias.so.1'),
      'libalias.so.1 satisfied by the loaded SONAME: no line',
    );
    assert.deepEqual(missingObjects(traceOf(n, 'progNoReuse')), ['libalias.so.1']);
  });

  test('empty-file-on-path', () => {
    const n = 'empty-file-on-path';
    const { roles } = get(n).scenario;
    const t = traceOf(n, 'prog');
    assert.equal(t.fatal, `error while loading shared libraries: ${roles.emptyLib}: file too short`);
    assert.equal(t.exitCode, 127);
    assert.deepEqual(t.objects, [], 'a fatal error prints no object list');
    clean(traceOf(n, 'good'));
  });

  test('hwcaps-subdir', async (ctx) => {
    const n = 'hwcaps-subdir';
    const { roles } = get(n).scenario;
    // ld.so --help (glibc 2.33+) lists the glibc-hwcaps subdirectories it searches on this CPU.
    const help = await execa('/lib64/ld-linux-x86-64.so.2', ['--help'], { reject: false });
    if (!/^\s*x86-64-v2 \(supported, searched\)$/m.test(help.stdout)) return ctx.skip('x86-64-v2 not searched here');
    const t = traceOf(n, 'prog');
    clean(t);
    assert.equal(foundObjects(t).get('libhw.so.1'), roles.hw);
  });
});

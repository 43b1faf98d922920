// Fixture scenarios the loader engine is tested on. Each builds, with gcc, a
// small tree of ELF files under baseDir/<name>/ whose real-loader trace (ldd -r
// semantics) shows one loader rule; scenarios.test.ts proves every claim below
// against the real ld.so.
import { access, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  canCompile32,
  compileExecutable,
  compileSharedLibrary,
  elf32HeaderOnly,
  patchVernauxFlags,
  VER_FLG_WEAK,
} from './fixtures.js';
import { createHostRunner, traceManyWithRealLoader, type RealLoaderTrace, type TraceOptions } from './real-loader.js';

export interface Scenario {
  name: string;
  description: string;
  dir: string;
  /** The ELF files to check, absolute. */
  files: string[];
  /** Environment for the loader besides PATH, e.g. LD_LIBRARY_PATH. */
  env: Record<string, string>;
  /** Working directory the files must be checked from (relative DT_NEEDED). */
  cwd?: string;
  /** Role → absolute path of the files (and a few non-checked paths) the scenario talks about. */
  roles: Record<string, string>;
}

export type ScenarioBuilder = (baseDir: string) => Promise<Scenario>;

const mainCalling = (calls: string[], decls = calls.map((c) => `extern int ${c}(void);`)) =>
  `${decls.join('\n')}\nint main(void) { int r = 0;${calls.map((c) => ` r += ${c}();`).join('')} return r < 0 ` +
  '? 1 : 0; }\n';

const fn = (name: string, value = 0) => `int ${name}(void) { return ${value}; }\n`;

async function freshDir(baseDir: string, name: string): Promise<string> {
  const dir = join(baseDir, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------

export const versionScriptTwoVersions: ScenarioBuilder = async (baseDir) => {
  const name = 'version-script-two-versions';
  const D = await freshDir(baseDir, name);
  const newLib = await compileSharedLibrary({
    dir: D,
    file: 'new/libv.so.1',
    soname: 'libv.so.1',
    source:
      '__asm__(".symver foo_v1, foo@V1");\n__asm__(".symver foo_v2, foo@@V2");\n' +
      fn('foo_v1', 1) +
      fn('foo_v2', 2) +
      fn('bar', 3),
    versionScript: 'V1 { global: foo; bar; local: *; };\nV2 { global: foo; } V1;\n',
  });
  const oldLib = await compileSharedLibrary({
    dir: D,
    file: 'old/libv.so.1',
    soname: 'libv.so.1',
    source: fn('foo', 1) + fn('bar', 3),
    versionScript: 'V1 { global: foo; bar; local: *; };\n',
  });
  // foo@V1 referenced explicitly through .symver; bar only exists in V1.
  const v1Src =
    '__asm__(".symver foo_old, foo@V1");\nextern int foo_old(void);\nextern int bar(void);\n' +
    'int main(void) { return foo_old() + bar() == 4 ? 0 : 1; }\n';
  const v2Src = mainCalling(['foo']);
  const [v1New, v2New, v1Old, v2Old] = await Promise.all([
    compileExecutable({ dir: D, file: 'bin/prog-v1-new', source: v1Src, needed: [newLib], runpath: join(D, 'new') }),
    compileExecutable({ dir: D, file: 'bin/prog-v2-new', source: v2Src, needed: [newLib], runpath: join(D, 'new') }),
    compileExecutable({ dir: D, file: 'bin/prog-v1-old', source: v1Src, needed: [newLib], runpath: join(D, 'old') }),
    compileExecutable({ dir: D, file: 'bin/prog-v2-old', source: v2Src, needed: [newLib], runpath: join(D, 'old') }),
  ]);
  return {
    name,
    description:
      'libv.so.1 defines foo@V1, foo@@V2 and bar@V1. Programs linked against it need V1 (foo@V1, bar) or V2 (foo). ' +
      'A second libv.so.1 without V2 sits in old/: the V2 program that finds it (RUNPATH old/) gets ' +
      ('"version `V2\' not found" and, under ldd -r, "undefined symbol: foo, version V2"; the V1 program is ' +
        'fine with either.'),
    dir: D,
    files: [newLib, oldLib, v1New, v2New, v1Old, v2Old],
    env: {},
    roles: { newLib, oldLib, v1New, v2New, v1Old, v2Old },
  };
};

export const rpathVsRunpathChain: ScenarioBuilder = async (baseDir) => {
  const name = 'rpath-vs-runpath-chain';
  const D = await freshDir(baseDir, name);
  const rp = join(D, 'rp');
  const empty = join(D, 'empty');
  await mkdir(empty, { recursive: true });
  const libB = await compileSharedLibrary({ dir: D, file: 'rp/libB.so.1', soname: 'libB.so.1', source: fn('b') });
  const libA = await compileSharedLibrary({
    dir: D,
    file: 'rp/libA.so.1',
    soname: 'libA.so.1',
    source: 'extern int b(void);\n' + fn('a_only') + 'int a(void) { return b(); }\n',
    needed: [libB],
  });
  const src = mainCalling(['a']);
  const [progRpath, progRunpath, progBoth] = await Promise.all([
    compileExecutable({ dir: D, file: 'bin/prog-rpath', source: src, needed: [libA], rpath: rp }),
    compileExecutable({ dir: D, file: 'bin/prog-runpath', source: src, needed: [libA], runpath: rp }),
    compileExecutable({ dir: D, file: 'bin/prog-both', source: src, needed: [libA], rpath: rp, runpath: empty }),
  ]);
  return {
    name,
    description:
      'libA.so.1 (no RPATH/RUNPATH) needs libB.so.1; both live only in rp/. prog-rpath has DT_RPATH=rp: libA ' +
      'and libB ' +
      ("are found (libB through the program's RPATH, inherited down the loader chain). prog-runpath has " +
        'DT_RUNPATH=rp: ') +
      "libA is found but libB is not (RUNPATH serves only the object's own needs). prog-both has DT_RPATH=rp and " +
      'DT_RUNPATH=empty/: the RPATH is ignored, libA is not found.',
    dir: D,
    files: [libA, libB, progRpath, progRunpath, progBoth],
    env: {},
    roles: { libA, libB, progRpath, progRunpath, progBoth, rp, empty },
  };
};

export const origin: ScenarioBuilder = async (baseDir) => {
  const name = 'origin';
  const D = await freshDir(baseDir, name);
  const libDep = await compileSharedLibrary({
    dir: D,
    file: 'app/lib/dep/libodep.so.1',
    soname: 'libodep.so.1',
    source: fn('odep'),
  });
  const libOrigin = await compileSharedLibrary({
    dir: D,
    file: 'app/lib/liborigin.so.1',
    soname: 'liborigin.so.1',
    source: 'extern int odep(void);\nint orig(void) { return odep(); }\n',
    needed: [libDep],
    runpath: '$ORIGIN/dep',
  });
  const libBrace = await compileSharedLibrary({
    dir: D,
    file: 'app/lib2/libbrace.so.1',
    soname: 'libbrace.so.1',
    source: fn('brace'),
  });
  const prog = await compileExecutable({
    dir: D,
    file: 'app/bin/prog',
    source: mainCalling(['orig', 'brace']),
    needed: [libOrigin, libBrace],
    runpath: '$ORIGIN/../lib:${ORIGIN}/../lib2',
  });
  await mkdir(join(D, 'elsewhere'), { recursive: true });
  const link = join(D, 'elsewhere', 'prog-link');
  await symlink('../app/bin/prog', link);
  return {
    name,
    description:
      'prog has DT_RUNPATH "$ORIGIN/../lib:${ORIGIN}/../lib2"; liborigin.so.1 has DT_RUNPATH "$ORIGIN/dep". ' +
      'Traced through ' +
      'its real path everything is found. elsewhere/prog-link is a symlink to it: traced through ld.so (ldd) the ' +
      "program's $ORIGIN is the directory of the path as typed (elsewhere/), so liborigin/libbrace are not found; " +
      'executed normally, $ORIGIN comes from /proc/self/exe (symlinks resolved) and the program runs.',
    dir: D,
    files: [libDep, libOrigin, libBrace, prog, link],
    env: {},
    roles: { libDep, libOrigin, libBrace, prog, link },
  };
};

export const missingLibrary: ScenarioBuilder = async (baseDir) => {
  const name = 'missing-library';
  const D = await freshDir(baseDir, name);
  const stub = await compileSharedLibrary({
    dir: D,
    file: '.build/stub/libnowhere.so.1',
    soname: 'libnowhere.so.1',
    source: fn('nowhere'),
  });
  const prog = await compileExecutable({ dir: D, file: 'bin/prog', source: mainCalling(['nowhere']), needed: [stub] });
  await rm(stub);
  return {
    name,
    description:
      'prog needs libnowhere.so.1, which exists nowhere (the link-time stub is deleted): "libnowhere.so.1 => ' +
      'not found".',
    dir: D,
    files: [prog],
    env: {},
    roles: { prog },
  };
};

export const weakVersion: ScenarioBuilder = async (baseDir) => {
  const name = 'weak-version';
  const D = await freshDir(baseDir, name);
  const newLib = await compileSharedLibrary({
    dir: D,
    file: 'new/libw.so.1',
    soname: 'libw.so.1',
    source: fn('w1func', 1) + fn('w2func', 2),
    versionScript: 'W1 { global: w1func; local: *; };\nW2 { global: w2func; } W1;\n',
  });
  const oldLib = await compileSharedLibrary({
    dir: D,
    file: 'old/libw.so.1',
    soname: 'libw.so.1',
    source: fn('w1func', 1),
    versionScript: 'W1 { global: w1func; local: *; };\n',
  });
  const src =
    'extern int w1func(void);\nextern int w2func(void) __attribute__((weak));\n' +
    'int main(void) { return w1func() + (w2func ? w2func() : 0) > 0 ? 0 : 1; }\n';
  const [progWeak, progStrong] = await Promise.all([
    compileExecutable({ dir: D, file: 'bin/prog-weak', source: src, needed: [newLib], runpath: join(D, 'old') }),
    compileExecutable({ dir: D, file: 'bin/prog-strong', source: src, needed: [newLib], runpath: join(D, 'old') }),
  ]);
  // binutils copies vna_flags from the provider's vd_flags: no toolchain way to
  // get VER_FLG_WEAK on a version that has symbols. Patch the Vernaux.
  const n = await patchVernauxFlags(progWeak, 'W2', VER_FLG_WEAK, 'libw.so.1');
  if (n !== 1) throw new Error(`weak-version: expected to patch one Vernaux W2, patched ${n}`);
  return {
    name,
    description:
      'prog-weak and prog-strong need W1 and W2 of libw.so.1 (w2func is a weak undefined reference) and find ' +
      'old/libw.so.1, ' +
      ('which lacks W2. prog-weak\'s Vernaux for W2 is patched to VER_FLG_WEAK: "weak version `W2\' not found" ' +
        'is only a ') +
      'warning. prog-strong is the unpatched twin: "version `W2\' not found".',
    dir: D,
    files: [newLib, oldLib, progWeak, progStrong],
    env: {},
    roles: { newLib, oldLib, progWeak, progStrong },
  };
};

export const noVersionInformation: ScenarioBuilder = async (baseDir) => {
  const name = 'no-version-information';
  const D = await freshDir(baseDir, name);
  const newLib = await compileSharedLibrary({
    dir: D,
    file: 'new/libn.so.1',
    soname: 'libn.so.1',
    source: fn('nfunc', 1),
    versionScript: 'N1 { global: nfunc; local: *; };\n',
  });
  const oldLib = await compileSharedLibrary({
    dir: D,
    file: 'old/libn.so.1',
    soname: 'libn.so.1',
    source: fn('nfunc', 1),
  });
  const prog = await compileExecutable({
    dir: D,
    file: 'bin/prog',
    source: mainCalling(['nfunc']),
    needed: [newLib],
    runpath: join(D, 'old'),
  });
  return {
    name,
    description:
      'prog needs N1 of libn.so.1 and finds old/libn.so.1, built without a version script (no DT_VERDEF): ' +
      '"no version information available", a warning; the unversioned nfunc still binds.',
    dir: D,
    files: [newLib, oldLib, prog],
    env: {},
    roles: { newLib, oldLib, prog },
  };
};

export const wrongClassFirst: ScenarioBuilder = async (baseDir) => {
  const name = 'wrong-class-first';
  const D = await freshDir(baseDir, name);
  const m32 = await canCompile32();
  const l32 = join(D, 'l32');
  const l32h = join(D, 'l32h');
  const l64 = join(D, 'l64');
  await mkdir(l32, { recursive: true });
  await mkdir(l32h, { recursive: true });
  let lib32: string;
  let only32: string;
  if (m32) {
    lib32 = await compileSharedLibrary({
      dir: D,
      file: 'l32/libwc.so.1',
      soname: 'libwc.so.1',
      source: fn('wc'),
      m32: true,
    });
    only32 = await compileSharedLibrary({
      dir: D,
      file: 'l32/libonly32.so.1',
      soname: 'libonly32.so.1',
      source: fn('only32'),
      m32: true,
    });
  } else {
    lib32 = join(l32, 'libwc.so.1');
    only32 = join(l32, 'libonly32.so.1');
    await writeFile(lib32, elf32HeaderOnly());
    await writeFile(only32, elf32HeaderOnly());
  }
  const header32 = join(l32h, 'libwc.so.1');
  await writeFile(header32, elf32HeaderOnly());
  const lib64 = await compileSharedLibrary({ dir: D, file: 'l64/libwc.so.1', soname: 'libwc.so.1', source: fn('wc') });
  const stubOnly32 = await compileSharedLibrary({
    dir: D,
    file: '.build/stub/libonly32.so.1',
    soname: 'libonly32.so.1',
    source: fn('only32'),
  });
  const [prog, progOnly32] = await Promise.all([
    compileExecutable({ dir: D, file: 'bin/prog', source: mainCalling(['wc']), needed: [lib64] }),
    compileExecutable({ dir: D, file: 'bin/prog-only32', source: mainCalling(['only32']), needed: [stubOnly32] }),
  ]);
  await rm(stubOnly32);
  return {
    name,
    description:
      'LD_LIBRARY_PATH=l32:l32h:l64. l32/libwc.so.1 is a 32-bit library (gcc -m32' +
      (m32 ? '' : ' unavailable: a bare ELF32 header') +
      ('), l32h/libwc.so.1 is a bare ELF32 header, l64/libwc.so.1 the right one: prog loads l64/libwc.so.1, the ' +
        'wrong-class ') +
      'files are skipped silently. prog-only32 needs libonly32.so.1, present only as a 32-bit file in l32/.',
    dir: D,
    files: [lib64, prog, progOnly32],
    env: { LD_LIBRARY_PATH: [l32, l32h, l64].join(':') },
    roles: { lib32, header32, lib64, only32, prog, progOnly32, l32, l32h, l64 },
  };
};

export const symbolDropped: ScenarioBuilder = async (baseDir) => {
  const name = 'symbol-dropped';
  const D = await freshDir(baseDir, name);
  const newLib = await compileSharedLibrary({
    dir: D,
    file: 'new/libs.so.1',
    soname: 'libs.so.1',
    source: fn('baz') + fn('qux'),
  });
  const oldLib = await compileSharedLibrary({ dir: D, file: 'old/libs.so.1', soname: 'libs.so.1', source: fn('qux') });
  const src = mainCalling(['baz', 'qux']);
  const [progNew, progOld] = await Promise.all([
    compileExecutable({ dir: D, file: 'bin/prog-new', source: src, needed: [newLib], runpath: join(D, 'new') }),
    compileExecutable({ dir: D, file: 'bin/prog-old', source: src, needed: [newLib], runpath: join(D, 'old') }),
  ]);
  return {
    name,
    description:
      'prog-new and prog-old call baz and qux of libs.so.1 (unversioned). prog-old finds a newer build of ' +
      'libs.so.1 without ' +
      'baz: ldd -r reports "undefined symbol: baz" for it (plain ldd says nothing: PLT calls bind lazily).',
    dir: D,
    files: [newLib, oldLib, progNew, progOld],
    env: {},
    roles: { newLib, oldLib, progNew, progOld },
  };
};

/** A library that exists in this host's default directories (never installed by us). */
export async function systemLibrary(): Promise<{ soname: string; path: string }> {
  const candidates = [
    ['libz.so.1', '/lib/x86_64-linux-gnu/libz.so.1'],
    ['libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1'],
    ['libz.so.1', '/usr/lib64/libz.so.1'],
    ['libm.so.6', '/lib/x86_64-linux-gnu/libm.so.6'],
    ['libm.so.6', '/usr/lib/x86_64-linux-gnu/libm.so.6'],
    ['libm.so.6', '/usr/lib64/libm.so.6'],
  ] as const;
  for (const [soname, path] of candidates) {
    try {
      await access(path);
      return { soname, path };
    } catch {
      // next
    }
  }
  throw new Error('no libz.so.1 or libm.so.6 in the default directories');
}

const nodeflibBuilder =
  (withLibraryPath: boolean): ScenarioBuilder =>
  async (baseDir): Promise<Scenario> => {
    const name = withLibraryPath ? 'nodeflib-library-path' : 'nodeflib';
    const D = await freshDir(baseDir, name);
    const sys = await systemLibrary();
    // -nostdlib: no libc.so.6 need, which the nodefaultlib object could not
    // find either (and ld.so's trace with LD_BIND_NOW crashes, SIGSEGV, when
    // libc.so.6 is "not found").
    const libNd = await compileSharedLibrary({
      dir: D,
      file: 'lib/libnd.so.1',
      soname: 'libnd.so.1',
      source: fn('nd'),
      needed: [sys.path],
      linkArgs: ['-nostdlib', '-Wl,-z,nodefaultlib'],
    });
    const [prog, progNodeflib] = await Promise.all([
      compileExecutable({
        dir: D,
        file: 'bin/prog',
        source: mainCalling(['nd']),
        needed: [libNd],
        runpath: join(D, 'lib'),
      }),
      compileExecutable({
        dir: D,
        file: 'bin/prog-nodeflib',
        source: 'void _start(void) { for (;;) {} }\n',
        needed: [sys.path],
        linkArgs: ['-nostdlib', '-Wl,-z,nodefaultlib'],
      }),
    ]);
    const sysDir = sys.path.slice(0, sys.path.lastIndexOf('/'));
    return {
      name,
      description: withLibraryPath
        ? `As "nodeflib", with LD_LIBRARY_PATH=${sysDir}: DF_1_NODEFLIB does not affect LD_LIBRARY_PATH, so ` +
          `${sys.soname} ` +
          'is found there.'
        : `libnd.so.1 is linked with -z nodefaultlib (DF_1_NODEFLIB) and needs ${sys.soname}, which the system ` +
          `has in ${sysDir}: ` +
          'for needs of libnd the cache entries under system directories and the default directories are skipped, so ' +
          (`${sys.soname} is not found (prog, which has no such flag, gets libc.so.6 normally). prog-nodeflib ` +
            '(no libc) has ') +
          `the flag itself: ${sys.soname} is not found for it either.`,
      dir: D,
      files: [libNd, prog, progNodeflib],
      env: withLibraryPath ? { LD_LIBRARY_PATH: sysDir } : {},
      roles: { libNd, prog, progNodeflib, systemLibrary: sys.path, systemSoname: sys.soname },
    };
  };

export const nodeflib: ScenarioBuilder = nodeflibBuilder(false);
export const nodeflibLibraryPath: ScenarioBuilder = nodeflibBuilder(true);

export const neededWithSlash: ScenarioBuilder = async (baseDir) => {
  const name = 'needed-with-slash';
  const D = await freshDir(baseDir, name);
  // No DT_SONAME: the linker records the path given on its command line.
  const abs = await compileSharedLibrary({ dir: D, file: 'abs/libslash.so', source: fn('slash') });
  const rel = await compileSharedLibrary({ dir: D, file: 'sub/librel.so', source: fn('rel') });
  const gone = await compileSharedLibrary({ dir: D, file: 'gone/libgone.so', source: fn('gone') });
  // A decoy of the same base name on LD_LIBRARY_PATH: never used, no search happens.
  await compileSharedLibrary({ dir: D, file: 'decoy/librel.so', source: fn('rel') });
  const [progAbs, progRel, progGone] = await Promise.all([
    compileExecutable({ dir: D, file: 'bin/prog-abs', source: mainCalling(['slash']), needed: [abs] }),
    compileExecutable({ dir: D, file: 'bin/prog-rel', source: mainCalling(['rel']), needed: ['sub/librel.so'] }),
    compileExecutable({ dir: D, file: 'bin/prog-gone', source: mainCalling(['gone']), needed: [gone] }),
  ]);
  await rm(gone);
  return {
    name,
    description:
      'DT_NEEDED entries with a slash are opened as is, with no search: prog-abs needs the absolute path of ' +
      'abs/libslash.so ' +
      ('(printed "\\tPATH (0x…)"), prog-rel needs "sub/librel.so", relative to the CURRENT directory (check ' +
        'from cwd=dir; ') +
      ('the decoy/librel.so on LD_LIBRARY_PATH is never used), prog-gone needs an absolute path that no longer ' +
        'exists ("=> not found").'),
    dir: D,
    files: [abs, rel, progAbs, progRel, progGone],
    env: { LD_LIBRARY_PATH: join(D, 'decoy') },
    cwd: D,
    roles: { abs, rel, gone, progAbs, progRel, progGone },
  };
};

export const sonameReuse: ScenarioBuilder = async (baseDir) => {
  const name = 'soname-reuse';
  const D = await freshDir(baseDir, name);
  // The file libreal.so.1 carries DT_SONAME libalias.so.1; no file is named libalias.so.1.
  const real = await compileSharedLibrary({
    dir: D,
    file: 'lib/libreal.so.1',
    soname: 'libalias.so.1',
    source: fn('realf'),
  });
  const stubReal = await compileSharedLibrary({
    dir: D,
    file: '.build/stub/libreal.so.1',
    soname: 'libreal.so.1',
    source: fn('realf'),
  });
  const user = await compileSharedLibrary({
    dir: D,
    file: 'lib/libuser.so.1',
    soname: 'libuser.so.1',
    source: 'extern int realf(void);\nint user(void) { return realf(); }\n',
    needed: [real],
  });
  const [progReuse, progNoReuse] = await Promise.all([
    compileExecutable({
      dir: D,
      file: 'bin/prog-reuse',
      source: mainCalling(['user', 'realf']),
      needed: [user, stubReal],
      runpath: join(D, 'lib'),
    }),
    compileExecutable({
      dir: D,
      file: 'bin/prog-noreuse',
      source: mainCalling(['user']),
      needed: [user],
      runpath: join(D, 'lib'),
    }),
  ]);
  return {
    name,
    description:
      'lib/libreal.so.1 has DT_SONAME libalias.so.1; libuser.so.1 needs libalias.so.1, a name no file has. ' +
      'prog-reuse needs ' +
      ("libuser.so.1 then libreal.so.1: breadth-first, libreal is loaded before libuser's needs are processed, " +
        'and its SONAME ') +
      'satisfies libalias.so.1 (no line for it). prog-noreuse needs only libuser.so.1: "libalias.so.1 => not found".',
    dir: D,
    files: [real, user, progReuse, progNoReuse],
    env: {},
    roles: { real, user, progReuse, progNoReuse },
  };
};

export const emptyFileOnPath: ScenarioBuilder = async (baseDir) => {
  const name = 'empty-file-on-path';
  const D = await freshDir(baseDir, name);
  await mkdir(join(D, 'empty'), { recursive: true });
  const emptyLib = join(D, 'empty', 'libx.so.1');
  await writeFile(emptyLib, '');
  const good = await compileSharedLibrary({ dir: D, file: 'good/libx.so.1', soname: 'libx.so.1', source: fn('x') });
  const prog = await compileExecutable({ dir: D, file: 'bin/prog', source: mainCalling(['x']), needed: [good] });
  return {
    name,
    description:
      'LD_LIBRARY_PATH=empty:good with a zero-byte empty/libx.so.1: a short file is fatal at once (not skipped): ' +
      '"error while loading shared libraries: …/empty/libx.so.1: file too short", exit 127, even in trace mode.',
    dir: D,
    files: [good, prog],
    env: { LD_LIBRARY_PATH: [join(D, 'empty'), join(D, 'good')].join(':') },
    roles: { emptyLib, good, prog },
  };
};

export const hwcapsSubdir: ScenarioBuilder = async (baseDir) => {
  const name = 'hwcaps-subdir';
  const D = await freshDir(baseDir, name);
  const [hw, plain] = await Promise.all([
    compileSharedLibrary({
      dir: D,
      file: 'lib/glibc-hwcaps/x86-64-v2/libhw.so.1',
      soname: 'libhw.so.1',
      source: fn('hw', 2),
    }),
    compileSharedLibrary({ dir: D, file: 'lib/libhw.so.1', soname: 'libhw.so.1', source: fn('hw', 1) }),
  ]);
  const prog = await compileExecutable({
    dir: D,
    file: 'bin/prog',
    source: mainCalling(['hw']),
    needed: [plain],
    runpath: join(D, 'lib'),
  });
  return {
    name,
    description:
      'libhw.so.1 exists in lib/glibc-hwcaps/x86-64-v2/ and in lib/; prog has DT_RUNPATH=lib. On a CPU supporting ' +
      ('x86-64-v2 the loader tries lib/glibc-hwcaps/{x86-64-v4,x86-64-v3,x86-64-v2}/ before lib/ and picks the ' +
        'hwcaps copy.'),
    dir: D,
    files: [hw, plain, prog],
    env: {},
    roles: { hw, plain, prog },
  };
};

/** Every scenario, by name. */
export const scenarioBuilders: Record<string, ScenarioBuilder> = {
  'version-script-two-versions': versionScriptTwoVersions,
  'rpath-vs-runpath-chain': rpathVsRunpathChain,
  origin,
  'missing-library': missingLibrary,
  'weak-version': weakVersion,
  'no-version-information': noVersionInformation,
  'wrong-class-first': wrongClassFirst,
  'symbol-dropped': symbolDropped,
  nodeflib,
  'nodeflib-library-path': nodeflibLibraryPath,
  'needed-with-slash': neededWithSlash,
  'soname-reuse': sonameReuse,
  'empty-file-on-path': emptyFileOnPath,
  'hwcaps-subdir': hwcapsSubdir,
};

/** Build every scenario under baseDir (in parallel). */
export async function buildAllScenarios(baseDir: string): Promise<Scenario[]> {
  return Promise.all(Object.values(scenarioBuilders).map((b) => b(baseDir)));
}

/**
 * The real loader's trace of every file of a scenario, in `files` order, with
 * the scenario's environment and working directory (ldd -r semantics unless
 * bindNow is false).
 */
export async function traceScenario(
  s: Scenario,
  opts: Pick<TraceOptions, 'bindNow' | 'ldso'> = {},
): Promise<RealLoaderTrace[]> {
  return traceManyWithRealLoader(s.files, {
    env: s.env,
    bindNow: opts.bindNow ?? true,
    ...(opts.ldso !== undefined ? { ldso: opts.ldso } : {}),
    runner: createHostRunner(s.cwd !== undefined ? { cwd: s.cwd } : {}),
  });
}

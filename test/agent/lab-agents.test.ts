// The compatibility service on the lab: a server on loopback with its SQLite file, and a real
// agent daemon (this machine's node bound in) inside each of the bullseye, bookworm and trixie
// roots. Two real bundles made here by `pyrelo build` (this machine's CPython 3.11 and the
// builder tests' yamlsmoke app: cryptography, a grafted libyaml, ssl, sqlite3, a child process),
// each with `--smoke bin/smoke`, are installed and smoke-run on every host by order of the server:
//   --libc host (built against glibc 2.36, needs GLIBC_2.3x): runs on bookworm and trixie, not on
//     bullseye. On every host the version problems of the agent's check are, word for word, what
//     the root's own ld.so prints tracing each file of the installed bundle, and on bullseye what
//     it printed refusing the smoke run;
//   --libc bundle (glibc and its loader inside): runs on all three.
// For every host, the prediction from its stored inventory equals the verdict of the run and
// equals `pyrelo check --root` on the root from outside.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { labSkipReason, runInRoot } from '../lab/lab.js';
import { ControlClient } from '../../src/client/control-client.js';
import { RootHostView } from '../../src/loader/root-host.js';
import { ElfFile } from '../../src/elf/elf-file.js';
import { OverlayHostView } from '../../src/loader/overlay-host.js';
import { loaderConfigForRoot } from '../../src/inventory/root-config.js';
import { checkBundleOnView, sameVerdict } from '../../src/compat/check-bundle.js';
import { bundlesAdd } from '../../src/client/commands/bundles.js';
import type { CheckResult } from '../../src/proto/messages.js';
import type { Manifest } from '../../src/bundle/manifest.js';
import { findElfFiles } from '../../src/elf/find-elf-files.js';
import { extractArchive } from '../../src/bundle/extract.js';
import { main } from '../../src/client/cli.js';
import { startTestServer, type TestServer } from '../server/fixtures.js';
import { AGENT_DIR, startLabAgent, waitForInventories, type LabAgent } from '../support/lab-agent.js';
import { traceManyWithRealLoader, type CommandRunner } from '../support/real-loader.js';
import { APP, ENTRY, buildSkipReason } from '../builder/shared-build.js';
import { BASE_PYTHON, ensureWheelhouse } from '../builder/wheelhouse.js';

const ROOTS = ['bullseye', 'bookworm', 'trixie'] as const;
const TIMEOUT = 15 * 60_000;
const skip = labSkipReason(['debootstrap']) ?? buildSkipReason();
const HOST_LIBC = 'app-host-libc';
const BUNDLED_LIBC = 'app-bundled-libc';
/** ld.so's version lines after "PROG: " (print_missing_version, dl-version.c). */
const VERSION_LINE =
  /^.+: (?:(?:weak )?version `[^']+' not found|no version information available) \(required by .+\)$/;
const VERSION_KINDS = new Set(['missing-version', 'weak-version', 'no-version-information']);

let work: string;
let ts: TestServer;
let control: ControlClient;
const agents: LabAgent[] = [];
const roots = new Map<string, string>();

const manifests = new Map<string, Manifest>();
const buildSeconds = new Map<string, number>();

/** Runs body with stdout and stderr captured; what they received. */
async function quietly<T>(body: () => Promise<T>): Promise<{ value: T; output: string }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let output = '';
  const capture = ((chunk: string | Uint8Array) => {
    output += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    return { value: await body(), output };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** `pyrelo build yamlsmoke … --smoke bin/smoke -o NAME.tar.gz`, through the real command line. */
async function buildBundle(name: string, libc: 'host' | 'bundle'): Promise<string> {
  const wheelhouse = await ensureWheelhouse();
  const archive = join(work, `${name}.tar.gz`);
  const started = Date.now();
  const { value: status, output } = await quietly(() =>
    main([
      'build',
      APP,
      '--python',
      BASE_PYTHON,
      '--wheelhouse',
      wheelhouse,
      '--libc',
      libc,
      '--entry',
      ENTRY,
      '--smoke',
      'bin/smoke',
      '--prompt',
      name,
      '-o',
      archive,
    ]),
  );
  buildSeconds.set(name, (Date.now() - started) / 1000);
  assert.equal(status, 0, `pyrelo build ${name} failed:\n${output}`);
  const manifest = await extractArchive(archive, join(work, `${name}-tree`));
  assert.ok(manifest !== null);
  assert.deepEqual(manifest.smoke, ['bin/smoke'], 'the manifest carries the smoke command');
  manifests.set(name, manifest);
  return archive;
}

/**
 * What the root's own ld.so says about the programs of the bundle the agent unpacked there: each
 * program (PT_INTERP) traced in the root at the agent's path (ldd semantics), each version line
 * "FILE\0MESSAGE" with ld.so's "PROG: " cut and the bundle folder taken out of paths, as a
 * CheckResult writes them. The bundle's libraries are not started on their own: they are dlopened
 * into the interpreter (docs/loader-model.md, "Bundle rules"), so the interpreter's lines speak for them.
 */
async function loaderVersionLines(name: string, digest: string): Promise<string[]> {
  const root = roots.get(name)!;
  const stateDir = join(work, `agent-${name}`);
  const hostTree = join(stateDir, 'bundles', digest);
  const tree = posix.join(AGENT_DIR, 'bundles', digest);
  const runner: CommandRunner = async (argv, env) => {
    const r = await runInRoot(root, argv, { env, bind: [{ hostPath: stateDir, rootPath: AGENT_DIR, readOnly: true }] });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
  const files = findElfFiles([hostTree])
    .filter(isProgram)
    .map((f) => tree + f.slice(hostTree.length));
  assert.ok(
    files.some((f) => f.endsWith('/bin/python3.11')),
    `the interpreter is among the programs: ${files.join(' ')}`,
  );
  const traces = await traceManyWithRealLoader(files, { runner });
  const relative = (text: string): string => text.split(`${tree}/`).join('');
  const lines: string[] = [];
  for (const trace of traces) {
    assert.deepEqual(
      trace.unrecognized,
      [],
      `${name}: ld.so printed for ${trace.file}:\n${trace.stdout}${trace.stderr}`,
    );
    const prog = `${trace.file}: `;
    for (const line of trace.stderr.split('\n')) {
      if (line.startsWith(prog) && VERSION_LINE.test(line.slice(prog.length)))
        lines.push(`${relative(trace.file)}\0${relative(line.slice(prog.length))}`);
    }
  }
  return [...new Set(lines)].sort();
}

/** The dynamic libraries (no PT_INTERP) of the bundle the agent unpacked, relative to it. */
function bundleLibraries(name: string, digest: string): string[] {
  const hostTree = join(work, `agent-${name}`, 'bundles', digest);
  return findElfFiles([hostTree])
    .filter((f) => {
      const elf = ElfFile.open(f);
      try {
        return elf.interpreter() === null && elf.dynamic() !== null;
      } finally {
        elf.close();
      }
    })
    .map((f) => f.slice(hostTree.length + 1))
    .sort();
}

function isProgram(path: string): boolean {
  const elf = ElfFile.open(path);
  try {
    return elf.interpreter() !== null;
  } finally {
    elf.close();
  }
}

/** The verified result's version problems, in the same form. */
function checkedVersionLines(result: CheckResult): string[] {
  return [
    ...new Set(result.problems.filter((p) => VERSION_KINDS.has(p.kind)).map((p) => `${p.file}\0${p.message}`)),
  ].sort();
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-lab-agents-'));
  ts = await startTestServer(join(work, 'server'));
  control = new ControlClient(ts.server.controlAddress);
  const hostLibc = await buildBundle(HOST_LIBC, 'host');
  const bundled = await buildBundle(BUNDLED_LIBC, 'bundle');
  await quietly(() => bundlesAdd(hostLibc, { control: control.address }));
  await quietly(() => bundlesAdd(bundled, { control: control.address }));
  for (const name of ROOTS) {
    const agent = await startLabAgent(ts, control, name, work, TIMEOUT);
    agents.push(agent);
    roots.set(name, agent.root);
  }
});

after(async () => {
  if (skip) return;
  for (const agent of agents) agent.run.kill();
  await Promise.allSettled(agents.map((a) => a.run.done));
  control?.close();
  await ts?.server.stop(500);
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  'agents in the bullseye, bookworm and trixie roots verify two bundles; compat and predictions agree with the runs',
  { timeout: TIMEOUT },
  async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    await waitForInventories(ts, control, agents);
    const { bundles } = await control.call('ListBundles', {});
    assert.deepEqual(bundles.map((b) => b.name).sort(), [BUNDLED_LIBC, HOST_LIBC]);
    const runs = new Map<string, CheckResult>();
    const checkSeconds: string[] = [];
    for (const bundle of bundles) {
      for (const name of ROOTS) {
        const started = Date.now();
        const answer = await control.call('Check', {
          bundle: bundle.digest,
          host: `site-${name}`,
          verify: true,
          timeoutMs: 300_000,
        });
        checkSeconds.push(`${bundle.name}@${name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
        assert.equal(answer.note, '', `${bundle.name} on ${name}`);
        assert.ok(
          answer.predicted !== null && answer.verified !== null,
          `${bundle.name} on ${name}: ${JSON.stringify(answer)}`,
        );
        runs.set(`${bundle.name}@${name}`, answer.verified);
        // The prediction from the stored inventory equals the run on the host...
        assert.ok(
          sameVerdict(answer.predicted, answer.verified),
          `${bundle.name} on ${name}: predicted ${JSON.stringify(answer.predicted.problems)} but the run gave ` +
            `${JSON.stringify(answer.verified.problems)}`,
        );
        assert.equal(
          answer.predicted.runs,
          answer.verified.runs,
          `${bundle.name} on ${name}: prediction and run disagree`,
        );
        // ...and `pyrelo check --root` from outside.
        const root = roots.get(name)!;
        const tree = join(ts.dir, 'bundles', 'trees', bundle.digest);
        const config = loaderConfigForRoot(root);
        const fromRoot = checkBundleOnView(
          new OverlayHostView(new RootHostView(root, config), new RootHostView('/', config), [tree]),
          tree,
          { digest: bundle.digest, host: name, kind: 'predicted' },
        );
        assert.ok(sameVerdict(answer.predicted, fromRoot), `${bundle.name} on ${name}: inventory and --root disagree`);
        // Every verdict is backed by the bundle's own smoke command run on that host: bin/smoke, the
        // app printing its JSON line (cryptography, the grafted libyaml, ssl) when it runs.
        const run = answer.verified;
        assert.equal(run.smokeRan, true, `${bundle.name} on ${name}: no smoke run`);
        assert.equal(run.runs, run.smokeExit === 0, `${bundle.name} on ${name}: ${run.smokeOutput}`);
        if (run.runs)
          assert.match(run.smokeOutput, /"fernet": "pyrelo"/, `${bundle.name} on ${name}: ${run.smokeOutput}`);
      }
    }
    t.diagnostic(
      `builds: ${[...buildSeconds].map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(', ')}; verified checks: ` +
        `${checkSeconds.join(', ')}`,
    );

    // --libc host: runs (verified) on bookworm and trixie, not on bullseye (glibc 2.31).
    const host = await control.call('Compat', { bundle: HOST_LIBC });
    const verdicts = Object.fromEntries(host.hosts.map((h) => [h.host?.name, h.verdict]));
    assert.deepEqual(verdicts, { 'site-bookworm': 'runs', 'site-bullseye': 'fails', 'site-trixie': 'runs' });
    assert.ok(host.hosts.every((h) => h.result?.kind === 'verified' && h.predictionAgrees));
    // The version problems of every verified run are ld.so's: on each host, the root's own loader
    // traces each file of the bundle the agent unpacked, and prints exactly these lines.
    const counts: string[] = [];
    for (const name of ROOTS) {
      const run = runs.get(`${HOST_LIBC}@${name}`)!;
      const real = await loaderVersionLines(name, host.bundle!.digest);
      counts.push(`${name} ${real.length}`);
      assert.deepEqual(
        checkedVersionLines(run),
        real,
        `${HOST_LIBC} on ${name}: the agent's check against ld.so's trace`,
      );
      // Every library is dlopened into the interpreter: where ld.so refuses the interpreter, each
      // library's verdict is that refusal (program-fails), and nowhere else.
      const interpreterRefused = real.some((l) => l.startsWith('bin/python3.11\0'));
      const failsWithProgram = [
        ...new Set(run.problems.filter((p) => p.kind === 'program-fails').map((p) => p.file)),
      ].sort();
      assert.deepEqual(
        failsWithProgram,
        interpreterRefused ? bundleLibraries(name, host.bundle!.digest) : [],
        `${name}: the libraries that fail with the interpreter`,
      );
      if (name === 'bullseye')
        assert.ok(
          real.some((l) => / version `GLIBC_2\.3\d' not found /.test(l)),
          `ld.so found no GLIBC_2.3x missing in bullseye:\n${real.join('\n')}`,
        );
    }
    // The real loader in bullseye refused the smoke run: every line it printed is one of the check's,
    // and the check's problems for the program it started are exactly those lines.
    const bullseyeRun = runs.get(`${HOST_LIBC}@bullseye`)!;
    assert.notEqual(bullseyeRun.smokeExit, 0);
    const printed = bullseyeRun.smokeOutput
      .split('\n')
      .map((l) => /^(\S+): (.+)$/.exec(l))
      .filter((m) => m !== null && VERSION_LINE.test(m[2]!));
    assert.ok(printed.length > 0, `no version line in the smoke run's output:\n${bullseyeRun.smokeOutput}`);
    const started = new Set(printed.map((m) => m![1]!));
    assert.equal(started.size, 1, `ld.so spoke for more than one program: ${[...started].join(', ')}`);
    const program = [...started][0]!;
    const smokeLines = [...new Set(printed.map((m) => `${posix.normalize(program)}\0${m![2]!}`))].sort();
    const forProgram = checkedVersionLines(bullseyeRun).filter((l) => l.startsWith(`${posix.normalize(program)}\0`));
    assert.deepEqual(forProgram, smokeLines, `smoke run on bullseye:\n${bullseyeRun.smokeOutput}`);
    t.diagnostic(
      `ld.so's version lines per root (trace of the installed bundle): ${counts.join(', ')}; ` +
        `the smoke run on bullseye (${program}) printed ${smokeLines.length}, exactly the check's for that program`,
    );
    const bullseye = host.distros.find((d) => d.distro === 'debian:11');
    assert.ok(bullseye !== undefined && bullseye.fails === 1 && bullseye.runs === 0);
    assert.ok(
      bullseye.reasons.length > 0 &&
        bullseye.reasons.every((r) => /version `GLIBC_2\.3\d' not found \(required by \S+\)/.test(r)),
      bullseye.reasons.join('\n'),
    );
    for (const d of host.distros.filter((x) => x.distro !== 'debian:11'))
      assert.deepEqual([d.runs, d.fails], [1, 0], d.distro);

    // --libc bundle: runs (verified) on all three.
    const bundled = await control.call('Compat', { bundle: BUNDLED_LIBC });
    assert.deepEqual(
      bundled.hosts.map((h) => h.verdict),
      ['runs', 'runs', 'runs'],
    );
    assert.ok(bundled.hosts.every((h) => h.result?.kind === 'verified' && h.predictionAgrees));

    const onBullseye = await control.call('DistroBundles', { distro: 'debian:11' });
    assert.deepEqual(
      onBullseye.bundles.map((b) => [b.bundle?.name, b.verdict]),
      [[BUNDLED_LIBC, 'runs']],
    );
    t.diagnostic(`bullseye: ${bullseye.reasons.join(' | ')}`);
  },
);

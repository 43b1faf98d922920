// `pyrelo deploy` on the lab, over real SSH: each Debian root's own sshd on loopback (bullseye,
// bookworm, trixie), plus a copy of the busybox-only root reached by chroot. Two real bundles made
// here by `pyrelo build` (yamlsmoke: cryptography, cffi, a grafted libyaml), with --smoke bin/smoke:
//   --libc host: refused on bullseye (GLIBC_2.3x) and busybox (no libc) before anything of it is
//     sent; installed, smoke-run and verified on bookworm and trixie;
//   --libc bundle: installed, smoke-run and verified everywhere, busybox included.
// `pyrelo compat` then says "runs (verified)" exactly where it ran. A changed bundle sent again
// travels as a delta; rollback switches back; releases lists both.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ensureRoot, labSkipReason, startSshHost, type SshHost } from '../lab/lab.js';
import { extractArchive } from '../../src/bundle/extract.js';
import { listBundleFiles } from '../../src/bundle/file-list.js';
import { readManifest, writeManifest } from '../../src/bundle/manifest.js';
import { packBundle } from '../../src/bundle/pack.js';
import type { CompatResponse } from '../../src/proto/messages.js';
import type { HostDeployResult } from '../../src/client/deploy/deploy-host.js';
import { startTestServer, type TestServer } from '../server/fixtures.js';
import { APP, ENTRY, buildSkipReason } from '../builder/shared-build.js';
import { BASE_PYTHON, ensureWheelhouse } from '../builder/wheelhouse.js';
import { pyreloCli, type CliRun } from './pyrelo-cli.js';

const SUITES = ['bullseye', 'bookworm', 'trixie'] as const;
const skip = labSkipReason(['debootstrap', 'ssh', 'busybox']) ?? buildSkipReason();
const HOST_LIBC = 'deploy-host-libc';
const BUNDLED_LIBC = 'deploy-bundled-libc';

let work: string;
let ts: TestServer;
let control: string;
const sshHosts: SshHost[] = [];
const archives = new Map<string, string>();

/** The real command line in a child process, with the deploy tests' environment. */
const cli = (args: string[]): Promise<CliRun> => pyreloCli(args, deployEnv());

async function cliJson<T>(args: string[]): Promise<{ status: number; json: T; output: string }> {
  const { status, stdout, output } = await cli([...args, '--json', '--control', control]);
  try {
    return { status, json: JSON.parse(stdout) as T, output };
  } catch {
    assert.fail(`pyrelo ${args.join(' ')} printed no JSON (exit ${status}):\n${output}`);
  }
}

/** pyrelo reads and writes this known_hosts instead of ~/.ssh's, and reads no ~/.ssh/config. */
function deployEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PYRELO_KNOWN_HOSTS: join(work, 'known_hosts'), PYRELO_SSH_CONFIG: '/dev/null' };
}

async function buildBundle(name: string, libc: 'host' | 'bundle'): Promise<string> {
  const archive = join(work, `${name}.tar.gz`);
  const { status, output } = await cli([
    'build',
    APP,
    '--python',
    BASE_PYTHON,
    '--wheelhouse',
    await ensureWheelhouse(),
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
  ]);
  assert.equal(status, 0, `pyrelo build ${name} failed:\n${output}`);
  return archive;
}

/** Runs a shell command on a lab host over the test's own ssh client (not pyrelo's). */
async function onHost(host: SshHost, script: string): Promise<string> {
  const r = await execa('ssh', [...host.sshOptions, host.host, script], { reject: false });
  return `${r.stdout}${r.stderr}`.trim();
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pyrelo-lab-deploy-'));
  ts = await startTestServer(join(work, 'server'));
  control = ts.server.controlAddress;
  archives.set(HOST_LIBC, await buildBundle(HOST_LIBC, 'host'));
  archives.set(BUNDLED_LIBC, await buildBundle(BUNDLED_LIBC, 'bundle'));
  for (const suite of SUITES) sshHosts.push(await startSshHost(suite));
  writeFileSync(
    deployEnv().PYRELO_KNOWN_HOSTS!,
    sshHosts
      .filter((h) => h.name !== 'site-trixie')
      .map((h) => `${h.knownHostsLine}\n`)
      .join(''),
  );
  for (const host of sshHosts) {
    const added = await cli([
      'hosts',
      'add',
      host.name,
      '--ssh',
      `root@127.0.0.1:${host.port}`,
      '--key',
      host.privateKeyPath,
      '--group',
      'lab',
      '--control',
      control,
    ]);
    assert.equal(added.status, 0, added.output);
  }
  const busybox = join(work, 'busybox-root');
  cpSync(await ensureRoot('busybox'), busybox, { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(busybox, 'opt'), { recursive: true });
  const added = await cli([
    'hosts',
    'add',
    'site-busybox',
    '--chroot',
    busybox,
    '--group',
    'lab',
    '--control',
    control,
  ]);
  assert.equal(added.status, 0, added.output);
});

after(async () => {
  if (skip) return;
  await Promise.allSettled(sshHosts.map((h) => h.stop()));
  await ts?.server.stop(500);
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  'an unknown host key stops the deploy; pyrelo hosts trust shows the fingerprint and trusts it',
  { skip, timeout: 300_000 },
  async () => {
    const trixie = sshHosts.find((h) => h.name === 'site-trixie')!;
    const refused = await cliJson<HostDeployResult[]>(['deploy', archives.get(BUNDLED_LIBC)!, '--host', 'site-trixie']);
    assert.equal(refused.status, 1);
    assert.equal(refused.json[0]!.status, 'failed');
    const fingerprint = (await execa('ssh-keygen', ['-lf', '-'], { input: trixie.hostPublicKey })).stdout.split(
      /\s+/,
    )[1]!;
    assert.match(
      refused.json[0]!.reason,
      new RegExp(`${fingerprint.replace(/[+/]/g, '\\$&')}[\\s\\S]*pyrelo hosts trust site-trixie`),
    );
    assert.equal(refused.json[0]!.bytesSent, 0);
    const wrong = await cli([
      'hosts',
      'trust',
      'site-trixie',
      '--fingerprint',
      'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '--control',
      control,
    ]);
    assert.equal(wrong.status, 2, wrong.output);
    assert.match(wrong.output, /does not match/);
    const trusted = await cli(['hosts', 'trust', 'site-trixie', '--fingerprint', fingerprint, '--control', control]);
    assert.equal(trusted.status, 0, trusted.output);
    assert.match(
      readFileSync(deployEnv().PYRELO_KNOWN_HOSTS!, 'utf8'),
      new RegExp(`\\[127\\.0\\.0\\.1\\]:${trixie.port} ssh-ed25519 `),
    );
  },
);

test(
  'deploy a host-libc and a bundled-libc bundle to every lab site; compat shows where each ran',
  { skip, timeout: 900_000 },
  async () => {
    const hostLibc = await cliJson<HostDeployResult[]>([
      'deploy',
      archives.get(HOST_LIBC)!,
      '--host',
      'lab',
      '--parallel',
      '2',
    ]);
    const byHost = new Map(hostLibc.json.map((r) => [r.host, r]));
    assert.equal(hostLibc.status, 1, 'some hosts refused it');
    for (const name of ['site-bookworm', 'site-trixie']) {
      const r = byHost.get(name)!;
      assert.equal(r.status, 'verified', `${name}: ${r.reason}\n${hostLibc.output}`);
      assert.equal(r.check?.smokeExit, 0);
    }
    const bullseye = byHost.get('site-bullseye')!;
    assert.equal(bullseye.status, 'refused', hostLibc.output);
    assert.match(bullseye.reason, /version `GLIBC_2\.3[2-6]' not found \(required by /);
    assert.match(
      bullseye.reason,
      /^predicted not to run: [\s\S]+ \(--force deploys anyway\)$/,
      "the refusal in release/deploy-policy.ts's words",
    );
    assert.equal(byHost.get('site-busybox')!.status, 'refused', hostLibc.output);
    // Refused before anything of the bundle was sent: no prefix on the host at all.
    const bullseyeHost = sshHosts.find((h) => h.name === 'site-bullseye')!;
    assert.equal(
      await onHost(bullseyeHost, `test -e /opt/pyrelo/${HOST_LIBC} && echo present || echo absent`),
      'absent',
    );

    const bundled = await cliJson<HostDeployResult[]>([
      'deploy',
      archives.get(BUNDLED_LIBC)!,
      '--host',
      'lab',
      '--parallel',
      '4',
    ]);
    assert.equal(bundled.status, 0, bundled.output);
    for (const r of bundled.json) {
      assert.equal(r.status, 'verified', `${r.host}: ${r.reason}`);
      assert.equal(r.check?.runs, true);
    }
    for (const host of sshHosts) {
      const link = await onHost(
        host,
        `readlink /opt/pyrelo/${BUNDLED_LIBC}/current && /opt/pyrelo/${BUNDLED_LIBC}/current/bin/smoke ` +
          '>/dev/null && echo ran',
      );
      assert.match(link, new RegExp(`^releases/${BUNDLED_LIBC}-[0-9a-f]{12}\\nran$`), `${host.name}: ${link}`);
    }

    const compatHost = await cliJson<CompatResponse>(['compat', HOST_LIBC]);
    const verdicts = new Map(compatHost.json.hosts.map((h) => [h.host?.name, h.verdict]));
    assert.equal(verdicts.get('site-bookworm'), 'runs');
    assert.equal(verdicts.get('site-trixie'), 'runs');
    assert.equal(verdicts.get('site-bullseye'), 'fails');
    assert.equal(verdicts.get('site-busybox'), 'fails');
    const compatBundled = await cliJson<CompatResponse>(['compat', BUNDLED_LIBC]);
    for (const h of compatBundled.json.hosts) {
      assert.equal(h.verdict, 'runs', `${h.host?.name}`);
      assert.equal(h.result?.kind, 'verified');
      assert.equal(h.predictionAgrees, true, `${h.host?.name}: the prediction agrees with the run`);
    }
    const table = await cli(['compat', BUNDLED_LIBC, '--control', control]);
    assert.match(table.output, /runs \(verified\)/);
  },
);

test(
  'a changed bundle travels as a delta; releases lists both; rollback switches back',
  { skip, timeout: 600_000 },
  async () => {
    // Version 2: the same bundle with one module changed, packed again (a new digest).
    const tree = join(work, 'v2');
    await extractArchive(archives.get(BUNDLED_LIBC)!, tree);
    const site = readManifest(tree).files.find((f) => /site-packages\/yamlsmoke\/__init__\.py$/.test(f.path));
    assert.ok(site, 'the app module is in the bundle');
    writeFileSync(join(tree, site.path), `${readFileSync(join(tree, site.path), 'utf8')}\n# version 2\n`);
    writeManifest(tree, { ...readManifest(tree), files: listBundleFiles(tree) });
    const v2 = join(work, `${BUNDLED_LIBC}-v2.tar.gz`);
    await packBundle(tree, v2);

    const deployed = await cliJson<HostDeployResult[]>(['deploy', v2, '--host', 'site-trixie']);
    const r = deployed.json[0]!;
    assert.equal(r.status, 'verified', deployed.output);
    const fullSize = statSync(archives.get(BUNDLED_LIBC)!).size;
    assert.ok(
      r.bytesSent < fullSize * 0.1,
      `redeploy sent ${r.bytesSent} bytes of a ${fullSize}-byte bundle:\n${deployed.output}`,
    );
    assert.ok(r.transferredFiles !== null && r.transferredFiles <= 3, `${r.transferredFiles} files sent`);

    const listed = await cliJson<{ host: string; current: string; previous: string; releases: { id: string }[] }[]>([
      'releases',
      '--host',
      'site-trixie',
      '--prefix',
      `/opt/pyrelo/${BUNDLED_LIBC}`,
    ]);
    assert.equal(listed.json[0]!.current, r.release);
    assert.equal(listed.json[0]!.previous, r.previous);
    assert.ok(listed.json[0]!.releases.length >= 2);

    const back = await cliJson<{ current: string; recorded: string }[]>([
      'rollback',
      '--host',
      'site-trixie',
      '--prefix',
      `/opt/pyrelo/${BUNDLED_LIBC}`,
    ]);
    assert.equal(back.status, 0, back.output);
    assert.equal(back.json[0]!.current, r.previous);
    assert.equal(back.json[0]!.recorded, 'recorded');
    const shown = await cliJson<{ deployments: { release: string; status: string; reason: string }[] }>([
      'hosts',
      'show',
      'site-trixie',
    ]);
    assert.equal(shown.json.deployments[0]?.release, r.previous);
    assert.match(shown.json.deployments[0]?.reason ?? '', new RegExp(`^rollback from ${r.release}$`));
    const trixie = sshHosts.find((h) => h.name === 'site-trixie')!;
    assert.equal(await onHost(trixie, `readlink /opt/pyrelo/${BUNDLED_LIBC}/current`), `releases/${r.previous}`);

    // Without --prefix (the deploys chose /opt/pyrelo/<bundle> themselves): the server's records say
    // where pyrelo installed on the host; a rollback needs one of them.
    const all = await cliJson<{ host: string; prefix: string }[]>(['releases', '--host', 'site-trixie']);
    assert.equal(all.status, 0, all.output);
    assert.deepEqual(
      all.json.map((l) => l.prefix).sort(),
      [`/opt/pyrelo/${BUNDLED_LIBC}`, `/opt/pyrelo/${HOST_LIBC}`].sort(),
    );
    const ambiguous = await cli(['rollback', '--host', 'site-trixie', '--control', control]);
    assert.equal(ambiguous.status, 2, ambiguous.output);
    assert.match(ambiguous.output, /deployed there into 2 prefixes: .*choose one with --bundle NAME or --prefix DIR/);
    const unknown = await cli([
      'rollback',
      '--host',
      'site-trixie',
      '--bundle',
      'no-such-bundle',
      '--control',
      control,
    ]);
    assert.equal(unknown.status, 2, unknown.output);
    assert.match(unknown.output, /--bundle no-such-bundle: never deployed to host site-trixie/);
    const forward = await cliJson<{ current: string; prefix: string }[]>([
      'rollback',
      '--host',
      'site-trixie',
      '--bundle',
      BUNDLED_LIBC,
    ]);
    assert.equal(forward.status, 0, forward.output);
    assert.equal(forward.json[0]!.prefix, `/opt/pyrelo/${BUNDLED_LIBC}`);
    assert.equal(forward.json[0]!.current, r.release, 'rolled back to the release the first rollback left');
  },
);

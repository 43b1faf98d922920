// `npm run lab -- <command>`: the developers' door to the same lab the tests use.
import { Command, InvalidArgumentError } from 'commander';
import { execa } from 'execa';
import { cleanCache, describeRoot, diskBytes, ensureRoot, formatBytes } from './ensure-root.js';
import { labLayout } from './paths.js';
import { labSkipReason } from './prerequisites.js';
import { ALL_ROOT_NAMES, isArm64RootName, isDebianRootName, isLabRootName, type AnyRootName } from './recipes.js';
import { leaveSignalsToCaller } from './live-processes.js';
import { runInRoot, type BindMount } from './run-in-root.js';
import { startSshHost } from './ssh-host.js';

const PARALLEL_BUILDS = 2;

function rootName(value: string): AnyRootName {
  if (!isLabRootName(value)) throw new InvalidArgumentError(`expected one of ${ALL_ROOT_NAMES.join(', ')}`);
  return value;
}

function requireLab(): void {
  const reason = labSkipReason(['root']);
  if (reason) {
    console.error(`lab: ${reason}`);
    process.exit(2);
  }
}

function bindOption(value: string, previous: BindMount[] = []): BindMount[] {
  const [hostPath, rootPath, mode] = value.split(':');
  if (!hostPath || !rootPath || (mode !== undefined && mode !== 'ro')) {
    throw new InvalidArgumentError('expected HOST:ROOT or HOST:ROOT:ro');
  }
  return [...previous, { hostPath, rootPath, readOnly: mode === 'ro' }];
}

async function buildRoots(names: AnyRootName[]): Promise<void> {
  const started = Date.now();
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      const t0 = Date.now();
      await ensureRoot(name);
      const info = await describeRoot(name);
      const bytes = info.status.state === 'ready' ? info.status.stamp.bytes : 0;
      console.log(
        `${name.padEnd(14)} ready  ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ` +
          `${formatBytes(bytes).padStart(8)}  ${info.rootfs}`,
      );
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_BUILDS }, worker));
  const total = await diskBytes(labLayout().roots);
  console.log(
    `all ready in ${((Date.now() - started) / 1000).toFixed(1)} s; cache ${labLayout().cache} uses ` +
      `${formatBytes(total)}`,
  );
}

async function status(): Promise<void> {
  console.log(`cache: ${labLayout().cache}`);
  for (const name of ALL_ROOT_NAMES) {
    const info = await describeRoot(name);
    const s = info.status;
    const detail =
      s.state === 'ready'
        ? `${formatBytes(s.stamp.bytes).padStart(8)}  libc: ${s.stamp.libc.padEnd(11)} built ${s.stamp.builtAt} ` +
          `in ${s.stamp.buildSeconds} s`
        : s.reason;
    console.log(`${name.padEnd(14)} ${s.state.padEnd(8)} key ${info.key}  ${detail}`);
  }
}

const program = new Command('lab').description('pyrelo test lab: cached Linux roots, run in private namespaces');

program
  .command('build')
  .description(`build (or check) cached roots, ${PARALLEL_BUILDS} at a time; all when none named`)
  .argument('[names...]', ALL_ROOT_NAMES.join(' | '))
  .action(async (names: string[]) => {
    requireLab();
    await buildRoots(names.length ? names.map(rootName) : [...ALL_ROOT_NAMES]);
  });

program.command('status').description('each root: cached?, key, size, libc').action(status);

program
  .command('shell')
  .description('interactive shell in a throwaway overlay of a root')
  .argument('<name>', ALL_ROOT_NAMES.join(' | '), rootName)
  .option('--no-proc', 'do not mount /proc')
  .option('--net', 'own network namespace (only lo)')
  .option('--bind <host:root[:ro]>', 'bind a host folder into the root (repeatable)', bindOption)
  .action(async (name: AnyRootName, opts: { proc: boolean; net?: boolean; bind?: BindMount[] }) => {
    requireLab();
    const root = await ensureRoot(name);
    const shell = isDebianRootName(name) || isArm64RootName(name) ? '/bin/bash' : '/bin/sh';
    const result = await runInRoot(root, [shell, '-l'], {
      stdio: 'inherit',
      mountProc: opts.proc,
      netns: !!opts.net,
      bind: opts.bind ?? [],
    });
    process.exitCode = result.exitCode;
  });

program
  .command('run')
  .description('run a command in a throwaway overlay of a root: lab run NAME -- cmd args…')
  .argument('<name>', ALL_ROOT_NAMES.join(' | '), rootName)
  .argument('<command...>')
  .option('--no-proc', 'do not mount /proc')
  .option('--net', 'own network namespace (only lo)')
  .option('--cwd <dir>', 'working directory inside the root')
  .option('--bind <host:root[:ro]>', 'bind a host folder into the root (repeatable)', bindOption)
  .action(
    async (
      name: AnyRootName,
      command: string[],
      opts: { proc: boolean; net?: boolean; cwd?: string; bind?: BindMount[] },
    ) => {
      requireLab();
      const root = await ensureRoot(name);
      const result = await runInRoot(root, command, {
        stdio: 'inherit',
        mountProc: opts.proc,
        netns: !!opts.net,
        bind: opts.bind ?? [],
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
      });
      process.exitCode = result.exitCode;
    },
  );

program
  .command('ssh-up')
  .description("start the root's own sshd on 127.0.0.1 and print how to reach it; Ctrl-C stops it")
  .argument('<name>', 'bullseye | bookworm | trixie', rootName)
  .action(async (name: AnyRootName) => {
    requireLab();
    if (!isDebianRootName(name)) throw new InvalidArgumentError('only the Debian roots have sshd');
    leaveSignalsToCaller(); // Ctrl-C is this command's normal end: stop the host and say so
    const host = await startSshHost(name);
    const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
    console.log(`${host.name} is up on ${host.host}:${host.port}; reach it with:\n`);
    console.log(`  ssh ${host.sshOptions.map(quote).join(' ')} ${host.host}\n`);
    console.log('Ctrl-C stops it.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await host.stop();
    console.log(`${host.name} stopped.`);
  });

program
  .command('clean')
  .description('delete cached roots: the named ones, or the whole cache')
  .argument('[names...]', ALL_ROOT_NAMES.join(' | '))
  .action(async (names: string[]) => {
    const removed = await cleanCache(names.length ? names.map(rootName) : undefined);
    for (const path of removed) console.log(`removed ${path}`);
  });

program
  .command('mounts')
  .description("the host's mounts that mention the lab (should print nothing: runs never leak mounts)")
  .action(async () => {
    const { stdout } = await execa('findmnt', ['-rn', '-o', 'TARGET,SOURCE,FSTYPE']);
    const leaks = stdout.split('\n').filter((line) => line.includes(labLayout().cache) || line.includes('pyrelo-lab'));
    for (const line of leaks) console.log(line);
    process.exitCode = leaks.length ? 1 : 0;
  });

await program.parseAsync();

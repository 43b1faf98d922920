// A Debian root: debootstrap minbase + openssh-server, then trimmed of what tests never use.
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { DebianRecipe } from './recipes.js';
import { resolveInRoot } from './root-path.js';
import { runInRoot } from './run-in-root.js';

/** debootstrap prints a line per package and step; these are the per-package ones. */
const PER_PACKAGE_LINE =
  /^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) [a-z0-9][^ ]*( [^ ]+)?(\.\.\.)?$/;

async function debootstrap(recipe: DebianRecipe, rootfs: string, log: (line: string) => void): Promise<void> {
  const args = [
    `--variant=${recipe.variant}`,
    // A foreign arch runs its second stage under qemu-aarch64 (binfmt F flag, test/lab/binfmt.ts).
    ...(recipe.arch ? [`--arch=${recipe.arch}`] : []),
    `--include=${recipe.include.join(',')}`,
    `--keyring=${recipe.keyring}`,
    recipe.suite,
    rootfs,
    recipe.mirror,
  ];
  log(`debootstrap ${args.join(' ')}`);
  // nice: the arm64 second stage is minutes of emulated CPU on a shared machine.
  const child = execa('nice', ['-n', '10', 'debootstrap', ...args], { reject: false, all: true, env: { LANG: 'C' } });
  const tail: string[] = [];
  let packages = 0;
  for await (const line of child.iterable({ from: 'all' })) {
    const text = String(line);
    tail.push(text);
    if (tail.length > 40) tail.shift();
    if (PER_PACKAGE_LINE.test(text)) {
      if (text.startsWith('I: Retrieving ')) packages++;
      continue;
    }
    if (/^[IWE]: /.test(text)) log(`debootstrap: ${text.slice(3).trim()}`);
  }
  const result = await child;
  if (result.exitCode !== 0) {
    throw new Error(`debootstrap ${recipe.suite} failed (exit ${result.exitCode}); last output:\n${tail.join('\n')}`);
  }
  log(`debootstrap: ${packages} packages retrieved`);
}

async function removeChildren(folder: string, keep: (name: string) => boolean): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => !keep(n)).map((n) => rm(join(folder, n), { recursive: true, force: true })));
}

/**
 * Removes what only costs disk: downloaded .debs and apt's package lists (the roots have
 * no network in tests), and the sshd host keys made by openssh-server's postinst, which
 * the lab never uses (each sshd gets a fresh key per lab instance).
 */
async function trim(rootfs: string): Promise<void> {
  await removeChildren(join(rootfs, 'var/cache/apt/archives'), (n) => n === 'partial' || n === 'lock');
  await removeChildren(join(rootfs, 'var/cache/apt'), (n) => n === 'archives');
  await removeChildren(join(rootfs, 'var/lib/apt/lists'), (n) => n === 'partial' || n === 'lock');
  await removeChildren(join(rootfs, 'etc/ssh'), (n) => !n.startsWith('ssh_host_'));
}

/**
 * debootstrap mounts /proc and /sys in the new root and leaves them mounted when a package fails
 * to unpack; the build folder could then never be deleted (EBUSY). Lazy unmounts, deepest first.
 */
async function unmountBelow(rootfs: string): Promise<void> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  const targets = mounts
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((target) => target.replace(/\\040/g, ' '))
    .filter((target) => target.startsWith(`${rootfs}/`))
    .sort()
    .reverse();
  for (const target of targets) await execa('umount', ['-l', target], { reject: false });
}

export async function buildDebianRoot(
  recipe: DebianRecipe,
  rootfs: string,
  log: (line: string) => void,
): Promise<void> {
  try {
    await debootstrap(recipe, rootfs, log);
  } finally {
    await unmountBelow(rootfs);
  }
  log('trimming apt caches and package-made ssh host keys');
  await trim(rootfs);
  // debootstrap runs ldconfig; a root without a cache would resolve libraries unlike a real host.
  if (!(await resolveInRoot(rootfs, '/etc/ld.so.cache'))) {
    log("no /etc/ld.so.cache: running the root's ldconfig");
    const result = await runInRoot(rootfs, ['/sbin/ldconfig'], { overlay: false, mountProc: false });
    if (result.exitCode !== 0) throw new Error(`ldconfig failed in ${rootfs}: ${result.stderr}`);
  }
}

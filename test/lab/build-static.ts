// The roots with no glibc: `busybox` (a static busybox and its applet links, nothing else)
// and `musl` (the same plus Debian's musl loader/libc). Made by copying the host's files
// from the busybox-static and musl packages, so they build in milliseconds, offline.
import { chmod, copyFile, mkdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { HOST_BUSYBOX, MUSL_LOADER, type StaticRecipe } from './recipes.js';

const HOST_MUSL_PATH_FILE = '/etc/ld-musl-x86_64.path';

async function installBusybox(rootfs: string, log: (line: string) => void): Promise<void> {
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'proc', 'dev', 'run']) {
    await mkdir(join(rootfs, dir), { recursive: true });
  }
  await mkdir(join(rootfs, 'tmp'), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await copyFile(HOST_BUSYBOX, join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  // Links made here rather than by `busybox --install -s`, which needs /proc to find itself.
  const { stdout } = await execa(HOST_BUSYBOX, ['--list-full']);
  const applets = stdout.split('\n').filter((p) => p && p !== 'bin/busybox');
  for (const applet of applets) {
    await mkdir(dirname(join(rootfs, applet)), { recursive: true });
    await symlink('/bin/busybox', join(rootfs, applet));
  }
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  log(`busybox with ${applets.length} applet links`);
}

/** Laid out as Debian's musl package lays it out: /lib/ld-musl-x86_64.so.1 -> libc.so. */
async function installMusl(rootfs: string, log: (line: string) => void): Promise<void> {
  const hostLibc = await realpath(MUSL_LOADER);
  const libcInRoot = join(rootfs, 'lib/x86_64-linux-musl/libc.so');
  await mkdir(dirname(libcInRoot), { recursive: true });
  await copyFile(hostLibc, libcInRoot);
  await chmod(libcInRoot, 0o755);
  await symlink('x86_64-linux-musl/libc.so', join(rootfs, MUSL_LOADER));
  await writeFile(
    join(rootfs, 'etc/ld-musl-x86_64.path'),
    await readFile(HOST_MUSL_PATH_FILE, 'utf8').catch(() => '/lib/x86_64-linux-musl\n'),
  );
  log(`musl loader and libc from ${hostLibc}`);
}

export async function buildStaticRoot(
  recipe: StaticRecipe,
  rootfs: string,
  log: (line: string) => void,
): Promise<void> {
  await mkdir(rootfs, { recursive: true });
  await chmod(rootfs, 0o755);
  await installBusybox(rootfs, log);
  if (recipe.kind === 'musl') await installMusl(rootfs, log);
}

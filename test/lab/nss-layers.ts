// Debian roots that meet a real NSS module and a real non-C locale (issue 19), derived from the
// cached roots without rebuilding them: a small folder laid over the root as an overlayfs layer
// (runInRoot's `layers`). Per suite, made once and cached under <lab cache>/derived/, keyed by the
// root's key and this recipe:
// - debs/: Debian's `libnss-extrausers` (users from /var/lib/extrausers) and `locales` (the locale
//   sources), fetched from the root's own apt mirror by the root's own apt-get;
// - debian/: the module in /usr/lib (where the package puts it), `passwd: files extrausers` and
//   `group: files extrausers` in nsswitch.conf, a user and a group known only to extrausers, and
//   de_DE.UTF-8 compiled into /usr/lib/locale/locale-archive by the root's own localedef;
// - rhel/: the same, but the module in /usr/lib64 only, as RHEL-family hosts keep their libraries,
//   named in /etc/ld.so.conf.d and found through a regenerated /etc/ld.so.cache.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeRoot, ensureRoot, defaultLog } from './ensure-root.js';
import { withLock } from './lock.js';
import { labLayout } from './paths.js';
import type { DebianRootName } from './recipes.js';
import { runInRoot } from './run-in-root.js';

export const NSS_LAYER_VERSION = 2;
/** Known only to libnss_extrausers: the host's files module does not know them. */
export const EXTRA_USER = { name: 'exuser', uid: 4242, gid: 4242, home: '/home/exuser', gecos: 'Extra User' } as const;
export const EXTRA_GROUP = { name: 'exgroup', gid: 4242, members: ['exuser'] } as const;
export const EXTRA_LOCALE = 'de_DE.UTF-8';
export const NSS_PACKAGES = ['libnss-extrausers', 'locales'] as const;

export type NssLayout = 'debian' | 'rhel';
export const NSS_LAYOUTS: readonly NssLayout[] = ['debian', 'rhel'];

export interface NssRoot {
  readonly suite: DebianRootName;
  readonly layout: NssLayout;
  /** The cached root, to pass to runInRoot with `layers`. */
  readonly root: string;
  readonly layers: string[];
  /** Where the module lives in this layout. */
  readonly modulePath: string;
}

const MODULE = 'libnss_extrausers.so.2';
export const MODULE_DIRS: Record<NssLayout, string> = {
  debian: '/usr/lib', // where Debian's package puts it
  rhel: '/usr/lib64',
};

function layerScript(): string {
  const passwd =
    `${EXTRA_USER.name}:x:${EXTRA_USER.uid}:` + `${EXTRA_USER.gid}:${EXTRA_USER.gecos}:${EXTRA_USER.home}:/bin/sh`;
  const group = `${EXTRA_GROUP.name}:x:${EXTRA_GROUP.gid}:${EXTRA_GROUP.members.join(',')}`;
  const [language, charset] = EXTRA_LOCALE.split('.') as [string, string];
  return [
    'set -e',
    'apt-get -qq update',
    `cd /out/debs && apt-get -qq download ${NSS_PACKAGES.join(' ')}`,
    'mkdir /tmp/x && for d in /out/debs/*.deb; do dpkg-deb -x "$d" /tmp/x; done',
    // The 64-bit module (the package also ships a 32-bit one in /usr/lib32).
    `module=$(find /tmp/x/usr/lib /tmp/x/lib -maxdepth 1 -name ${MODULE} -print -quit 2>/dev/null)`,
    'test -n "$module"',
    // The locale, compiled by this root's own localedef from Debian's sources.
    'cp -a /tmp/x/usr/share/i18n /usr/share/',
    `localedef -i ${language} -f ${charset} ${EXTRA_LOCALE}`,
    'for layout in debian rhel; do',
    '  out=/out/$layout',
    '  mkdir -p $out/etc $out/var/lib/extrausers $out/usr/lib/locale',
    '  cp /usr/lib/locale/locale-archive $out/usr/lib/locale/',
    "  sed -E 's/^(passwd|group):.*/\\1: files extrausers/' /etc/nsswitch.conf > $out/etc/nsswitch.conf",
    `  echo '${passwd}' > $out/var/lib/extrausers/passwd`,
    `  echo '${group}' > $out/var/lib/extrausers/group`,
    'done',
    `mkdir -p /out/debian${MODULE_DIRS.debian} && cp "$module" /out/debian${MODULE_DIRS.debian}/`,
    `mkdir -p /out/rhel${MODULE_DIRS.rhel} /out/rhel/etc/ld.so.conf.d && cp "$module" /out/rhel${MODULE_DIRS.rhel}/`,
    `echo ${MODULE_DIRS.rhel} > /out/rhel/etc/ld.so.conf.d/lib64.conf`,
    // The root's own ldconfig writes the cache the host's loader (and its NSS) will read.
    `mkdir -p ${MODULE_DIRS.rhel} && cp "$module" ${MODULE_DIRS.rhel}/ && cp ` +
      '/out/rhel/etc/ld.so.conf.d/lib64.conf /etc/ld.so.conf.d/',
    'ldconfig && cp /etc/ld.so.cache /out/rhel/etc/ld.so.cache',
  ].join('\n');
}

function layerKey(rootKey: string): string {
  const recipe = JSON.stringify({ rootKey, NSS_LAYER_VERSION, NSS_PACKAGES, EXTRA_USER, EXTRA_GROUP, EXTRA_LOCALE });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 12);
}

/** The suite's cached root with its NSS layer for `layout`, made first when missing. */
export async function ensureNssRoot(suite: DebianRootName, layout: NssLayout): Promise<NssRoot> {
  const root = await ensureRoot(suite);
  const info = await describeRoot(suite);
  const cache = labLayout().cache;
  const folder = join(cache, 'derived', `${suite}-nss-${layerKey(info.key)}`);
  const stamp = join(folder, 'stamp.json');
  const ready = async () =>
    readFile(stamp, 'utf8').then(
      () => true,
      () => false,
    );
  if (!(await ready())) {
    await mkdir(join(cache, 'derived'), { recursive: true });
    await mkdir(labLayout().locks, { recursive: true });
    await withLock(
      join(labLayout().locks, `derived-${suite}-nss`),
      () => defaultLog(`${suite}: waiting for another process making its NSS layer`),
      async () => {
        if (await ready()) return;
        const staging = `${folder}.${process.pid}.${randomBytes(4).toString('hex')}`;
        await mkdir(join(staging, 'debs'), { recursive: true });
        try {
          const started = Date.now();
          const run = await runInRoot(root, ['/bin/sh', '-c', layerScript()], {
            bind: [{ hostPath: staging, rootPath: '/out' }],
            mountProc: true,
            timeoutMs: 300_000,
          });
          if (run.exitCode !== 0) {
            throw new Error(`${suite}: making the NSS layer failed (exit ${run.exitCode}): ${run.stderr.slice(-2000)}`);
          }
          await writeFile(
            join(staging, 'stamp.json'),
            `${JSON.stringify({ suite, rootKey: info.key, seconds: (Date.now() - started) / 1000 })}\n`,
          );
          await rename(staging, folder);
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      },
    );
  }
  return {
    suite,
    layout,
    root,
    layers: [join(folder, layout)],
    modulePath: `${MODULE_DIRS[layout]}/${MODULE}`,
  };
}

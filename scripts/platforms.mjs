#!/usr/bin/env node
// Regenerates data/platforms/: one file per reference platform (README "Reference platforms").
// - Facts for every platform in PLATFORMS below: libc, default kernel, CA store, architectures,
//   and the symbol versions of the glibc family, libstdc++ and libgcc_s, copied from auditwheel's
//   manylinux policy file for the tag whose glibc (and, for libstdc++, whose GCC) matches.
// - Real inventories of the lab's roots (Debian 11, 12, 13, busybox, musl), taken with
//   `pyrelo inventory --root`, stored gzip'd beside the facts; the kernel is set to the platform's
//   default kernel (the collecting machine's says nothing about the distribution).
//
//   node scripts/platforms.mjs --policy FILE [--lab DIR]      (npm run platforms:update)
//
// FILE: auditwheel/policy/manylinux-policy.json out of `pip download --no-deps auditwheel`.
// DIR: the lab's cache (default /var/cache/pyrelo/lab, as `npm run lab -- build` makes it); a
// root missing there keeps its stored inventory.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const OUTPUT = fileURLToPath(new URL('../data/platforms/', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/src/client/main.js', import.meta.url));

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : process.argv[at + 1];
}
const POLICY = option('--policy', process.env.PYRELO_AUDITWHEEL_POLICY);
const LAB = option('--lab', process.env.PYRELO_LAB_CACHE ?? '/var/cache/pyrelo/lab');
if (POLICY === undefined) {
  process.stderr.write('usage: node scripts/platforms.mjs --policy manylinux-policy.json [--lab DIR]\n');
  process.exit(2);
}

const DEBIAN_CA = { path: '/etc/ssl/certs/ca-certificates.crt', source: 'data/host-certs.json' };
const RHEL_CA = { path: '/etc/pki/tls/certs/ca-bundle.crt', source: 'data/host-certs.json' };
const SUSE_CA = { path: '/etc/ssl/ca-bundle.pem', source: 'data/host-certs.json' };
const REPOLOGY_GLIBC = 'https://repology.org/project/glibc/versions';
const REPOLOGY_GCC = 'https://repology.org/project/gcc/versions';

/**
 * The platforms. glibcTag: the manylinux tag of the platform's glibc; cxxTag: the tag whose
 * libstdc++/libgcc_s versions the platform's GCC runtime has at least (the policy lists what every
 * distribution of a tag has, a lower bound). uncertain: what we could not confirm from a document.
 */
const PLATFORMS = [
  {
    name: 'debian:11',
    title: 'Debian 11 (bullseye)',
    layout: 'debian',
    glibc: '2.31',
    glibcTag: 'manylinux_2_31',
    cxxTag: 'manylinux_2_31',
    gcc: '10.2',
    kernel: '5.10.0',
    ca: DEBIAN_CA,
    architectures: ['x86_64', 'aarch64'],
    source: 'https://www.debian.org/releases/bullseye/ (glibc 2.31, GCC 10.2, Linux 5.10)',
    lab: 'bullseye',
  },
  {
    name: 'debian:12',
    title: 'Debian 12 (bookworm)',
    layout: 'debian',
    glibc: '2.36',
    glibcTag: 'manylinux_2_36',
    cxxTag: 'manylinux_2_36',
    gcc: '12.2',
    kernel: '6.1.0',
    ca: DEBIAN_CA,
    architectures: ['x86_64', 'aarch64'],
    source: 'https://www.debian.org/releases/bookworm/ (glibc 2.36, GCC 12.2, Linux 6.1)',
    lab: 'bookworm',
  },
  {
    name: 'debian:13',
    title: 'Debian 13 (trixie)',
    layout: 'debian',
    glibc: '2.41',
    glibcTag: 'manylinux_2_41',
    cxxTag: 'manylinux_2_41',
    gcc: '14.2',
    kernel: '6.12.0',
    ca: DEBIAN_CA,
    architectures: ['x86_64', 'aarch64'],
    source: 'https://www.debian.org/releases/trixie/ (glibc 2.41, GCC 14.2, Linux 6.12)',
    lab: 'trixie',
  },
  ...['8', '9', '10'].map((v) => ({
    name: `rhel:${v}`,
    title: `Red Hat Enterprise Linux ${v} (and AlmaLinux, Rocky Linux ${v})`,
    aliases: [`almalinux:${v}`, `rocky:${v}`],
    layout: 'upstream',
    glibc: { 8: '2.28', 9: '2.34', 10: '2.39' }[v],
    glibcTag: { 8: 'manylinux_2_28', 9: 'manylinux_2_34', 10: 'manylinux_2_39' }[v],
    cxxTag: { 8: 'manylinux_2_28', 9: 'manylinux_2_34', 10: 'manylinux_2_39' }[v],
    gcc: { 8: '8.5', 9: '11.5', 10: '14.2' }[v],
    kernel: { 8: '4.18.0', 9: '5.14.0', 10: '6.12.0' }[v],
    x86IsaBaseline: { 8: 1, 9: 2, 10: 3 }[v],
    ca: RHEL_CA,
    architectures: ['x86_64', 'aarch64', 'ppc64le', 's390x'],
    source:
      'https://access.redhat.com/articles/3078 (kernel per release); ' +
      `${REPOLOGY_GLIBC} (glibc); manylinux_2_28 is defined by AlmaLinux 8 (PEP 600 images)`,
    ...(v === '10'
      ? { uncertain: ['libstdc++: taken from manylinux_2_39 (Ubuntu 24.04, GCC 14); RHEL 10 ships GCC 14 too'] }
      : {}),
  })),
  ...[
    ['20.04', '2.31', 'manylinux_2_31', '10', '5.4.0'],
    ['22.04', '2.35', 'manylinux_2_35', '12', '5.15.0'],
    ['24.04', '2.39', 'manylinux_2_39', '14', '6.8.0'],
  ].map(([v, glibc, tag, gcc, kernel]) => ({
    name: `ubuntu:${v}`,
    title: `Ubuntu ${v} LTS`,
    layout: 'debian',
    glibc,
    glibcTag: tag,
    cxxTag: tag,
    gcc: `${gcc} (libstdc++6)`,
    kernel,
    ca: DEBIAN_CA,
    architectures: ['x86_64', 'aarch64'],
    source: `https://packages.ubuntu.com/ (libc6, libstdc++6, linux-image-generic of ${v}); auditwheel names Ubuntu ${v} for ${tag}`,
  })),
  {
    name: 'sles:15',
    title: 'SUSE Linux Enterprise Server 15 (SP4-SP6)',
    layout: 'upstream',
    glibc: '2.31',
    glibcTag: 'manylinux_2_31',
    cxxTag: 'manylinux_2_31',
    gcc: '7.5 (system compiler); libstdc++6 from a newer GCC',
    kernel: '5.14.21',
    ca: SUSE_CA,
    architectures: ['x86_64', 'aarch64', 'ppc64le', 's390x'],
    source: `https://www.suse.com/releasenotes/ (SLES 15 SP4, SP5 release notes: kernel, glibc); ${REPOLOGY_GLIBC}`,
    uncertain: [
      'glibc 2.31 holds for SP3 to SP6; SP7 may differ',
      'libstdc++6 is updated within SLES 15 (newer than GCC 10): the GLIBCXX list is a lower bound',
      'kernel 5.14.21 is SP4/SP5; SP6 has 6.4',
    ],
  },
  {
    name: 'amzn:2',
    title: 'Amazon Linux 2',
    layout: 'upstream',
    glibc: '2.26',
    glibcTag: 'manylinux_2_26',
    cxxTag: 'manylinux_2_26',
    gcc: '7.3',
    kernel: '4.14.0',
    ca: RHEL_CA,
    architectures: ['x86_64', 'aarch64'],
    source: `https://docs.aws.amazon.com/linux/al2/ug/ (kernel 4.14, 5.10 optional); ${REPOLOGY_GLIBC}`,
    uncertain: ['kernel: 4.14 by default, 5.10 and 5.15 offered as extras'],
  },
  {
    name: 'amzn:2023',
    title: 'Amazon Linux 2023',
    layout: 'upstream',
    glibc: '2.34',
    glibcTag: 'manylinux_2_34',
    cxxTag: 'manylinux_2_34',
    gcc: '11.4',
    kernel: '6.1.0',
    ca: RHEL_CA,
    architectures: ['x86_64', 'aarch64'],
    source: 'https://docs.aws.amazon.com/linux/al2023/ug/compare-with-al2.html (glibc 2.34, GCC 11, Linux 6.1)',
  },
  {
    name: 'alpine:3.20',
    title: 'Alpine Linux 3.20',
    layout: 'upstream',
    musl: '1.2.5',
    kernel: '6.6.0',
    ca: DEBIAN_CA,
    architectures: ['x86_64', 'aarch64'],
    source: 'https://alpinelinux.org/posts/Alpine-3.20.0-released.html (musl 1.2.5, linux-lts 6.6)',
  },
  {
    name: 'kylin:V10',
    title: 'Kylin Linux Advanced Server V10',
    layout: 'upstream',
    glibc: '2.28',
    glibcTag: 'manylinux_2_28',
    cxxTag: 'manylinux_2_26',
    gcc: '7.3.0',
    kernel: '4.19.90',
    ca: RHEL_CA,
    architectures: ['x86_64', 'aarch64'],
    source: 'Kylin V10 server is built from openEuler 20.03 LTS (same glibc, GCC and kernel); see openEuler:20.03',
    uncertain: [
      'not checked against a Kylin document: facts taken from openEuler 20.03 LTS, its base',
      'Kylin Desktop V10 is Ubuntu-based and differs (glibc 2.31)',
    ],
  },
  {
    name: 'uos:20',
    title: 'UnionTech OS Server 20',
    layout: 'debian',
    glibc: '2.28',
    glibcTag: 'manylinux_2_28',
    cxxTag: 'manylinux_2_28',
    gcc: '8.3.0',
    kernel: '4.19.0',
    ca: DEBIAN_CA,
    architectures: ['x86_64', 'aarch64'],
    source: 'UOS 20 is built from Debian 10 (buster: glibc 2.28, GCC 8.3, Linux 4.19)',
    uncertain: [
      'not checked against a UnionTech document: facts taken from Debian 10, its base',
      'UOS 20 server editions also exist on an openEuler base (lib64 layout)',
    ],
  },
  ...[
    ['20.03', '2.28', 'manylinux_2_28', 'manylinux_2_26', '7.3.0', '4.19.90'],
    ['22.03', '2.34', 'manylinux_2_34', 'manylinux_2_31', '10.3.1', '5.10.0'],
    ['24.03', '2.38', 'manylinux_2_38', 'manylinux_2_36', '12.3.1', '6.6.0'],
  ].map(([v, glibc, glibcTag, cxxTag, gcc, kernel]) => ({
    name: `openEuler:${v}`,
    title: `openEuler ${v} LTS`,
    layout: 'upstream',
    glibc,
    glibcTag,
    cxxTag,
    gcc,
    kernel,
    ca: RHEL_CA,
    architectures: ['x86_64', 'aarch64'],
    source: `https://repo.openeuler.org/openEuler-${v}-LTS/ (glibc, gcc, kernel packages); ${REPOLOGY_GCC}`,
    uncertain: ['libstdc++: a lower bound, from the manylinux tag of the nearest older GCC'],
  })),
  {
    name: 'lab:busybox',
    title: "The lab's busybox root (static busybox, no libc)",
    layout: 'upstream',
    none: true,
    kernel: '6.1.0',
    ca: null,
    architectures: ['x86_64'],
    source: 'test/lab (README "The lab")',
    lab: 'busybox',
  },
  {
    name: 'lab:musl',
    title: "The lab's musl root (static busybox, Debian's musl)",
    layout: 'upstream',
    musl: '1.2.3',
    kernel: '6.1.0',
    ca: null,
    architectures: ['x86_64'],
    source: 'test/lab (README "The lab")',
    lab: 'musl',
  },
];

const policy = new Map(JSON.parse(readFileSync(POLICY, 'utf8')).map((p) => [p.name, p]));
const sortVersions = (names) =>
  [...names].sort((a, b) => {
    const pa = a.split('.').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    const pb = b.split('.').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
      const x = pa[i] ?? -1;
      const y = pb[i] ?? -1;
      if (x === y) continue;
      if (typeof x === 'number' && typeof y === 'number') return x - y;
      return String(x) < String(y) ? -1 : 1;
    }
    return 0;
  });

function symbolVersions(p, arch) {
  if (p.glibc === undefined) return null;
  const family = (tag, name) => {
    const list = policy.get(tag)?.symbol_versions?.[arch]?.[name];
    if (list === undefined) throw new Error(`${POLICY}: ${tag} lists no ${name} versions for ${arch}`);
    return sortVersions(list).map((v) => `${name}_${v}`);
  };
  return {
    GLIBC: family(p.glibcTag, 'GLIBC'),
    GLIBCXX: family(p.cxxTag, 'GLIBCXX'),
    CXXABI: family(p.cxxTag, 'CXXABI'),
    GCC: family(p.cxxTag, 'GCC'),
    ZLIB: family(p.glibcTag, 'ZLIB'),
  };
}

/**
 * What a base install has for certain (README "Reference platforms": kept small): glibc's own
 * libraries, the GCC runtime and zlib, which the package managers of these distributions need.
 */
const GLIBC_BASE = [
  ['libc.so.6', ['GLIBC']],
  ['libm.so.6', ['GLIBC']],
  ['libpthread.so.0', ['GLIBC']],
  ['libdl.so.2', ['GLIBC']],
  ['librt.so.1', ['GLIBC']],
  ['libutil.so.1', ['GLIBC']],
  ['libresolv.so.2', ['GLIBC']],
  ['libanl.so.1', ['GLIBC']],
  ['libgcc_s.so.1', ['GCC']],
  ['libstdc++.so.6', ['GLIBCXX', 'CXXABI']],
  ['libz.so.1', ['ZLIB']],
];

function platformFile(p) {
  const id = p.name.replace(':', '-');
  const versions = {};
  for (const arch of p.architectures) {
    const v = symbolVersions(p, arch);
    if (v !== null) versions[arch] = v;
  }
  const libc =
    p.glibc !== undefined
      ? { kind: 'glibc', version: p.glibc, source: p.source }
      : p.musl !== undefined
        ? { kind: 'musl', version: p.musl, source: p.source }
        : { kind: 'none', version: null, source: p.source };
  return {
    id,
    body: {
      name: p.name,
      title: p.title,
      aliases: p.aliases ?? [],
      source: p.source,
      layout: p.layout,
      libc,
      ...(p.gcc === undefined ? {} : { gcc: p.gcc }),
      kernel: { release: p.kernel, source: p.source },
      x86IsaBaseline: p.x86IsaBaseline ?? 1,
      caStore: p.ca,
      architectures: p.architectures,
      symbolVersions:
        Object.keys(versions).length === 0
          ? null
          : {
              source:
                `auditwheel ${policyVersion()} auditwheel/policy/manylinux-policy.json: GLIBC and ZLIB of ` +
                `${p.glibcTag}, GLIBCXX, CXXABI and GCC of ${p.cxxTag} (the versions every distribution of a tag has)`,
              ...versions,
            },
      baseLibraries: libc.kind === 'glibc' ? GLIBC_BASE.map(([soname, families]) => ({ soname, families })) : [],
      uncertain: p.uncertain ?? [],
      ...(p.lab === undefined ? {} : { inventory: `${id}.inventory.json.gz` }),
    },
  };
}

function policyVersion() {
  return process.env.PYRELO_AUDITWHEEL_VERSION ?? option('--policy-version', 'unknown version');
}

function writeAtomically(path, data) {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** The lab root's inventory with the platform's kernel and no collection time (reproducible). */
function labInventory(p, id) {
  const roots = join(LAB, 'roots');
  const dir = existsSync(roots) ? readdirSync(roots).find((n) => n.match(new RegExp(`^${p.lab}-[0-9a-f]+$`))) : null;
  if (dir === undefined || dir === null) {
    process.stderr.write(`${p.name}: no lab root ${p.lab} in ${roots}; the stored inventory is kept\n`);
    return;
  }
  const raw = `${OUTPUT}${id}.raw.json.gz`;
  execFileSync(process.execPath, [CLI, 'inventory', '--root', join(roots, dir, 'rootfs'), '-o', raw], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const inventory = JSON.parse(gunzipSync(readFileSync(raw)).toString('utf8'));
  execFileSync('rm', ['-f', raw]);
  const [major, minor, patch] = p.kernel.split('.').map(Number);
  inventory.collectedAt = '1970-01-01T00:00:00.000Z';
  inventory.source = `lab root ${p.lab}`;
  inventory.host.kernelRelease = p.kernel;
  inventory.loader.kernelVersion = [major, minor, patch];
  writeAtomically(`${OUTPUT}${id}.inventory.json.gz`, gzipSync(`${JSON.stringify(inventory)}\n`, { level: 9 }));
}

mkdirSync(OUTPUT, { recursive: true });
for (const p of PLATFORMS) {
  const { id, body } = platformFile(p);
  writeAtomically(`${OUTPUT}${id}.json`, `${JSON.stringify(body, null, 2)}\n`);
  if (p.lab !== undefined) labInventory(p, id);
}
process.stdout.write(`${PLATFORMS.length} platforms written to ${OUTPUT}\n`);

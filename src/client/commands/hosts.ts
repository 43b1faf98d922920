// `pyrelo hosts add|list|show|remove|import|token`: the hosts the compatibility database knows.

import { readFileSync } from 'node:fs';
import { writeOut } from '../../common/terminal-text.js';
import { resolve } from 'node:path';
import type { HostAccess, HostInfo } from '../../proto/messages.js';
import { InputError } from '../../elf/find-elf-files.js';
import { withControl } from '../control-client.js';

export interface ControlOptions {
  readonly control?: string;
  readonly json?: boolean;
}

/** JSON with --json, else the readable lines. */
export function print(json: boolean | undefined, value: unknown, lines: () => string[]): void {
  writeOut(json ? `${JSON.stringify(value, null, 2)}\n` : `${lines().join('\n')}\n`);
}

export function distroOf(host: HostInfo): string {
  return host.distroId === '' ? '-' : `${host.distroId}:${host.distroVersion || '?'}`;
}

export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

function describeHost(h: HostInfo): string[] {
  return [
    `host:       ${h.name}${h.connected ? ' (agent connected)' : ''}`,
    `distro:     ${distroOf(h)}`,
    `arch:       ${h.arch || '-'}`,
    `kernel:     ${h.kernel || '-'}`,
    `libc:       ${h.libcKind || '-'} ${h.libcVersion}`.trimEnd(),
    `source:     ${h.source}`,
    `reached by: ${accessOf(h)}`,
    'inventory:  ' +
      (h.inventoryVersion === 0 ? 'none' : `version ${h.inventoryVersion} (sha256 ${h.inventorySha256.slice(0, 16)}…)`),
    `last seen:  ${h.lastSeen || 'never'}`,
    `agent:      ${h.agentVersion || '-'}`,
  ];
}

export interface HostAddOptions extends ControlOptions {
  readonly ssh?: string;
  readonly key?: string;
  readonly jump?: string;
  readonly chroot?: string;
  readonly group?: string[];
  readonly prefix?: string;
}

export async function hostsAdd(name: string, o: HostAddOptions): Promise<number> {
  const given = o.ssh !== undefined || o.chroot !== undefined || (o.group?.length ?? 0) > 0 || o.prefix !== undefined;
  if (!given && (o.key !== undefined || o.jump !== undefined))
    throw new InputError(`host ${name}`, '--key and --jump go with --ssh');
  const access: HostAccess | null = given
    ? {
        ssh: o.ssh ?? '',
        key: o.key === undefined ? '' : resolve(o.key),
        jump: o.jump ?? '',
        chroot: o.chroot === undefined ? '' : resolve(o.chroot),
        groups: o.group ?? [],
        prefix: o.prefix ?? '',
      }
    : null;
  const host = await withControl(o.control, (c) => c.call('AddHost', { name, access }));
  print(o.json, host, () => [`added host ${host.name}${host.access ? ` (${accessOf(host)})` : ''}`]);
  return 0;
}

export function accessOf(h: HostInfo): string {
  const a = h.access;
  if (a === null) return '-';
  const how = a.chroot
    ? `chroot ${a.chroot}`
    : a.ssh
      ? `ssh ${a.ssh}${a.jump ? ` via ${a.jump}` : ''}${a.key ? ` key ${a.key}` : ''}`
      : 'not reachable';
  return `${how}${a.groups.length ? `; groups ${a.groups.join(',')}` : ''}${a.prefix ? `; prefix ${a.prefix}` : ''}`;
}

export async function hostsList(o: ControlOptions): Promise<number> {
  const { hosts } = await withControl(o.control, (c) => c.call('ListHosts', {}));
  print(o.json, hosts, () =>
    hosts.length === 0
      ? ['no hosts (pyrelo hosts add NAME, pyrelo hosts import FILE, or enroll an agent)']
      : table([
          ['HOST', 'DISTRO', 'ARCH', 'LIBC', 'SOURCE', 'AGENT', 'VERSION', 'LAST SEEN'],
          ...hosts.map((h) => [
            h.name,
            distroOf(h),
            h.arch || '-',
            `${h.libcKind || '-'} ${h.libcVersion}`.trim(),
            h.source,
            h.connected ? 'connected' : '-',
            h.agentVersion || '-',
            h.lastSeen || 'never',
          ]),
        ]),
  );
  return 0;
}

export async function hostsShow(name: string, o: ControlOptions): Promise<number> {
  const [host, { deployments }] = await withControl(o.control, (c) =>
    Promise.all([c.call('ShowHost', { name }), c.call('ListDeployments', { name })]),
  );
  print(o.json, { ...host, deployments }, () => [
    ...describeHost(host),
    ...(deployments.length === 0
      ? []
      : [
          'deployments (newest first):',
          ...table(
            deployments
              .slice(0, 5)
              .map((d) => [
                `  ${d.finishedAt}`,
                d.bundleName,
                d.release,
                d.status,
                `${(d.bytesSent / 1e6).toFixed(1)} MB`,
                d.reason.slice(0, 100),
              ]),
          ),
        ]),
  ]);
  return 0;
}

export async function hostsRemove(name: string, o: ControlOptions): Promise<number> {
  await withControl(o.control, (c) => c.call('RemoveHost', { name }));
  print(o.json, { removed: name }, () => [
    `removed host ${name} and its results; its agent's certificate is revoked (to bring it back: hosts add, ` +
      'then enroll with a new token)',
  ]);
  return 0;
}

export async function hostsImport(file: string, o: ControlOptions & { name?: string }): Promise<number> {
  const inventory = readFileSync(file);
  const host = await withControl(o.control, (c) => c.call('ImportInventory', { name: o.name ?? '', inventory }));
  print(o.json, host, () => [
    `imported ${file} as host ${host.name} (inventory version ${host.inventoryVersion}); predictions updated`,
    ...describeHost(host),
  ]);
  return 0;
}

export async function hostsToken(name: string, o: ControlOptions): Promise<number> {
  const token = await withControl(o.control, (c) => c.call('CreateEnrollToken', { name }));
  print(o.json, token, () => [
    token.token,
    `# one-time enrollment token for host ${token.host}, valid until ${token.expiresAt}; on that host:`,
    '#   pyrelo agent enroll --server SERVER:7444 --ca ca.crt --token-file -   (paste the token, then Ctrl-D; ' +
      'or --token-file FILE)',
  ]);
  return 0;
}

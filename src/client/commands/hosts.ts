// `pyrelo hosts add|list|show|remove|import|token`: the hosts the compatibility database knows.

import { readFileSync } from 'node:fs';
import type { EnrollToken, HostInfo, HostList } from '../../proto/types.js';
import { withControl } from '../control-client.js';

export interface ControlOptions {
  readonly control?: string;
  readonly json?: boolean;
}

function print(json: boolean | undefined, value: unknown, lines: () => string[]): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${lines().join('\n')}\n`);
}

export function distroOf(host: HostInfo): string {
  return host.distroId === '' ? '-' : `${host.distroId}:${host.distroVersion || '?'}`;
}

export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

function describeHost(h: HostInfo): string[] {
  return [
    `host:       ${h.name}${h.connected ? ' (agent connected)' : ''}`,
    `distro:     ${distroOf(h)}`,
    `arch:       ${h.arch || '-'}`,
    `kernel:     ${h.kernel || '-'}`,
    `libc:       ${h.libcKind || '-'} ${h.libcVersion}`.trimEnd(),
    `source:     ${h.source}`,
    `inventory:  ${h.inventoryVersion === 0 ? 'none' : `version ${h.inventoryVersion} (sha256 ${h.inventorySha256.slice(0, 16)}…)`}`,
    `last seen:  ${h.lastSeen || 'never'}`,
  ];
}

export async function hostsAdd(name: string, o: ControlOptions): Promise<number> {
  const host = await withControl(o.control, (c) => c.call<HostInfo>('AddHost', { name }));
  print(o.json, host, () => [`added host ${host.name}`]);
  return 0;
}

export async function hostsList(o: ControlOptions): Promise<number> {
  const { hosts } = await withControl(o.control, (c) => c.call<HostList>('ListHosts', {}));
  print(o.json, hosts, () => hosts.length === 0 ? ['no hosts (pyrelo hosts add NAME, pyrelo hosts import FILE, or enroll an agent)'] : table([
    ['HOST', 'DISTRO', 'ARCH', 'LIBC', 'SOURCE', 'AGENT', 'LAST SEEN'],
    ...hosts.map((h) => [h.name, distroOf(h), h.arch || '-', `${h.libcKind || '-'} ${h.libcVersion}`.trim(), h.source, h.connected ? 'connected' : '-', h.lastSeen || 'never']),
  ]));
  return 0;
}

export async function hostsShow(name: string, o: ControlOptions): Promise<number> {
  const host = await withControl(o.control, (c) => c.call<HostInfo>('ShowHost', { name }));
  print(o.json, host, () => describeHost(host));
  return 0;
}

export async function hostsRemove(name: string, o: ControlOptions): Promise<number> {
  await withControl(o.control, (c) => c.call('RemoveHost', { name }));
  print(o.json, { removed: name }, () => [`removed host ${name} and its results`]);
  return 0;
}

export async function hostsImport(file: string, o: ControlOptions & { name?: string }): Promise<number> {
  const inventory = readFileSync(file);
  const host = await withControl(o.control, (c) => c.call<HostInfo>('ImportInventory', { name: o.name ?? '', inventory }));
  print(o.json, host, () => [`imported ${file} as host ${host.name} (inventory version ${host.inventoryVersion}); predictions updated`, ...describeHost(host)]);
  return 0;
}

export async function hostsToken(name: string, o: ControlOptions): Promise<number> {
  const token = await withControl(o.control, (c) => c.call<EnrollToken>('CreateEnrollToken', { name }));
  print(o.json, token, () => [
    token.token,
    `# one-time enrollment token for host ${token.host}, valid until ${token.expiresAt}; on that host:`,
    `#   pyrelo agent enroll --server SERVER:7444 --ca ca.crt --token ${token.token}`,
  ]);
  return 0;
}

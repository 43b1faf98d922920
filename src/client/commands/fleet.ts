// `pyrelo fleet [--json] [--stale-days N]`: what the enrolled hosts are made of (distros, libcs,
// kernels, architectures, x86-64 ISA levels, page sizes) and whose inventory is stale (README
// "pyrelo fleet").

import type { FleetResponse, FleetValue } from '../../proto/messages.js';
import { withControl } from '../control-client.js';
import { InputError } from '../../elf/find-elf-files.js';
import { print, table, type ControlOptions } from './hosts.js';

const FACETS: readonly { readonly title: string; readonly column: string; readonly of: keyof FleetResponse }[] = [
  { title: 'distros (os-release ID:VERSION_ID)', column: 'DISTRO', of: 'distros' },
  { title: 'C libraries', column: 'LIBC', of: 'libcs' },
  { title: 'kernels', column: 'KERNEL', of: 'kernels' },
  { title: 'architectures', column: 'ARCH', of: 'architectures' },
  { title: 'x86-64 ISA levels (the CPU, as glibc reads it)', column: 'LEVEL', of: 'isaLevels' },
  { title: 'page sizes (bytes)', column: 'PAGE SIZE', of: 'pageSizes' },
];

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function named(v: FleetValue): string {
  return `${v.names.join(', ')}${v.hosts > v.names.length ? ', …' : ''}`;
}

export function renderFleet(f: FleetResponse): string[] {
  const without = f.hosts - f.withInventory;
  const lines = [
    `${plural(f.hosts, 'host')}, ${f.withInventory} with an inventory` +
      (without > 0
        ? ` (${without} without: ${f.withoutInventory.join(', ')}${without > f.withoutInventory.length ? ', …' : ''})`
        : ''),
  ];
  for (const facet of FACETS) {
    const values = f[facet.of] as FleetValue[];
    if (values.length === 0) continue;
    lines.push('', `${facet.title}:`);
    lines.push(
      ...table([
        [`  ${facet.column}`, 'HOSTS', 'FIRST HOSTS'],
        ...values.map((v) => [`  ${v.value}`, String(v.hosts), named(v)]),
      ]),
    );
  }
  lines.push(
    '',
    `stale inventories (collected more than ${plural(f.staleAfterDays, 'day')} before ${f.now}): ` +
      (f.staleCount === 0 ? 'none' : String(f.staleCount)),
  );
  if (f.stale.length > 0)
    lines.push(
      ...table([
        ['  HOST', 'COLLECTED', 'AGE', 'SOURCE'],
        ...f.stale.map((s) => [
          `  ${s.name}`,
          s.collectedAt || 'not known',
          s.ageDays < 0 ? '?' : `${Math.floor(s.ageDays)} d`,
          s.source,
        ]),
      ]),
    );
  if (f.staleCount > f.stale.length)
    lines.push(`  … and ${f.staleCount - f.stale.length} more (--json lists the same)`);
  return lines;
}

export function staleDaysOption(given: string | undefined): number {
  if (given === undefined) return 0;
  if (!/^\d{1,5}$/.test(given) || Number(given) === 0)
    throw new InputError(`--stale-days ${given}`, 'expected a whole number of days, 1 to 99999');
  return Number(given);
}

export async function runFleet(o: ControlOptions & { staleDays?: string }): Promise<number> {
  const staleAfterDays = staleDaysOption(o.staleDays);
  const answer = await withControl(o.control, (c) => c.call('Fleet', { staleAfterDays }));
  print(o.json, answer, () => renderFleet(answer));
  return 0;
}

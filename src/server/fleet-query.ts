// What the enrolled hosts are made of (pyrelo fleet, README "pyrelo fleet"): each fact the hosts'
// inventories give (distro, libc, kernel, architecture, x86 ISA level, page size) counted per value
// with the first hosts' names, and the hosts whose inventory is stale: collected longer ago than
// the question's limit (30 days unless given), or, when an agent or file did not say when it was
// collected, received that long ago. Answered from the rows CompatDatabase.fleetFacts reads.

import type { FleetHostFacts } from './db/database.js';
import type { FleetResponse, FleetValue, StaleHost } from '../proto/messages.js';
import { distroName } from './compat-query.js';

export const DEFAULT_STALE_AFTER_DAYS = 30;
/** A limit beyond a century is not meant; it is taken as a century. */
const MAX_STALE_AFTER_DAYS = 36_500;
/** Host names shown per value: the first ones by name. */
export const NAMES_PER_VALUE = 5;
const STALE_LISTED = 50;
const WITHOUT_INVENTORY_LISTED = 10;
const DAY_MS = 24 * 60 * 60 * 1000;

const X86_64_LEVELS: readonly string[] = ['', 'x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4'];

/** The x86-64 ISA level's name (hwcaps.ts numbers them 1..4), "not x86-64" off x86, else unknown. */
export function isaLevelName(arch: string, level: number | null): string {
  if (arch !== 'x86_64') return 'not x86-64';
  return level !== null && Number.isInteger(level) && level >= 1 && level <= 4 ? X86_64_LEVELS[level]! : 'unknown';
}

export function libcName(kind: string, version: string): string {
  if (kind === '') return 'unknown';
  if (kind === 'none') return 'none (static only)';
  return version === '' ? kind : `${kind} ${version}`;
}

/** Counts per value, most hosts first (then the value in natural order), with the first names. */
function countBy(hosts: readonly FleetHostFacts[], valueOf: (h: FleetHostFacts) => string): FleetValue[] {
  const values = new Map<string, FleetValue>();
  for (const h of hosts) {
    const value = valueOf(h) || 'unknown';
    const entry = values.get(value) ?? { value, hosts: 0, names: [] };
    entry.hosts += 1;
    if (entry.names.length < NAMES_PER_VALUE) entry.names.push(h.name);
    values.set(value, entry);
  }
  return [...values.values()].sort(
    (a, b) => b.hosts - a.hosts || a.value.localeCompare(b.value, 'en', { numeric: true }),
  );
}

export function staleAfterDays(asked: number): number {
  if (!Number.isFinite(asked) || asked <= 0) return DEFAULT_STALE_AFTER_DAYS;
  return Math.min(asked, MAX_STALE_AFTER_DAYS);
}

export function fleetOf(hosts: readonly FleetHostFacts[], askedStaleDays: number, now = Date.now()): FleetResponse {
  const days = staleAfterDays(askedStaleDays);
  const known = hosts.filter((h) => h.hasInventory);
  const stale: StaleHost[] = [];
  for (const h of known) {
    // Collected when the agent or the file says; else received when the server stored it.
    const since = h.collectedAt || h.receivedAt;
    const at = Date.parse(since);
    // A host with no time at all (none recorded) is listed as stale: its age cannot be vouched for.
    const ageDays = Number.isFinite(at) ? (now - at) / DAY_MS : Number.POSITIVE_INFINITY;
    if (ageDays > days)
      stale.push({
        name: h.name,
        collectedAt: since,
        ageDays: Number.isFinite(ageDays) ? ageDays : -1,
        source: h.source,
      });
  }
  const age = (s: StaleHost): number => (s.ageDays < 0 ? Number.POSITIVE_INFINITY : s.ageDays);
  stale.sort((a, b) => age(b) - age(a) || a.name.localeCompare(b.name));
  return {
    hosts: hosts.length,
    withInventory: known.length,
    distros: countBy(known, (h) => distroName(h.distroId, h.distroVersion)),
    libcs: countBy(known, (h) => libcName(h.libcKind, h.libcVersion)),
    kernels: countBy(known, (h) => h.kernel),
    architectures: countBy(known, (h) => h.arch),
    isaLevels: countBy(known, (h) => isaLevelName(h.arch, h.isaLevel)),
    pageSizes: countBy(known, (h) => (h.pageSize === null ? 'unknown' : String(h.pageSize))),
    staleAfterDays: days,
    staleCount: stale.length,
    stale: stale.slice(0, STALE_LISTED),
    withoutInventory: hosts
      .filter((h) => !h.hasInventory)
      .slice(0, WITHOUT_INVENTORY_LISTED)
      .map((h) => h.name),
    now: new Date(now).toISOString(),
  };
}

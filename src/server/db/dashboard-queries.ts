// Read-only queries of the dashboard (src/server/dashboard/, README "Dashboard"): a few queries per
// page whatever the number of hosts and bundles, never one per cell, so that the matrix of 1,000
// hosts x 100 bundles is read in one pass over the checks.

import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import type { Database } from 'better-sqlite3';

/** A cell's verdict: verified (an agent or deploy ran it there), runs (predicted), fails (either), unknown. */
export type CellVerdict = 'verified' | 'runs' | 'fails' | 'unknown';

export interface MatrixBundle {
  readonly id: number;
  readonly digest: string;
  readonly name: string;
  readonly libc: string;
  readonly glibcFloor: string;
}

export interface MatrixHost {
  readonly id: number;
  readonly name: string;
  readonly distroId: string;
  readonly distroVersion: string;
  readonly arch: string;
}

/** Every bundle x host verdict, hosts ordered by distro then name, bundles by name. */
export interface Matrix {
  readonly bundles: readonly MatrixBundle[];
  readonly hosts: readonly MatrixHost[];
  /** verdicts[hostIndex * bundles.length + bundleIndex]: an index into VERDICTS. */
  readonly verdicts: Uint8Array;
  /** The first reason of a failing cell, by the same index. */
  readonly reasons: ReadonlyMap<number, string>;
}

export const VERDICTS: readonly CellVerdict[] = ['unknown', 'runs', 'verified', 'fails'];
const RUNS = 1;
const VERIFIED = 2;
const FAILS = 3;

/**
 * The first reason of a failing check, in SQL: its first error in the loader's words, else the smoke
 * command's exit and first line (as compat-query.ts words it), else nothing.
 */
const FIRST_REASON = `CASE WHEN c.runs = 0 THEN coalesce(
    (SELECT p.message FROM check_problems p WHERE p.check_id = c.id AND p.severity = 'error' ORDER BY p.seq LIMIT 1),
    CASE WHEN c.smoke_ran = 1 AND c.smoke_exit <> 0 THEN 'smoke command exited ' || c.smoke_exit || ': ' ||
      substr(c.smoke_output, 1, CASE WHEN instr(c.smoke_output, char(10)) > 0 THEN instr(c.smoke_output, char(10)) - 1
        ELSE 200 END) END,
    (SELECT p.message FROM check_problems p WHERE p.check_id = c.id ORDER BY p.seq LIMIT 1)) END`;

export function matrix(db: Database): Matrix {
  const bundles = (
    db.prepare('SELECT id, digest, name, libc, glibc_floor FROM bundles ORDER BY name, id').raw().all() as [
      number,
      string,
      string,
      string,
      string | null,
    ][]
  ).map(([id, digest, name, libc, floor]) => ({ id, digest, name, libc, glibcFloor: floor ?? '' }));
  const hosts = (
    db
      .prepare('SELECT id, name, distro_id, distro_version, arch FROM hosts ORDER BY distro_id, distro_version, name')
      .raw()
      .all() as [number, string, string, string, string][]
  ).map(([id, name, distroId, distroVersion, arch]) => ({ id, name, distroId, distroVersion, arch }));
  const column = new Map(bundles.map((b, i) => [b.id, i]));
  const row = new Map(hosts.map((h, i) => [h.id, i]));
  const verdicts = new Uint8Array(hosts.length * bundles.length); // 0: unknown
  const reasons = new Map<number, string>();
  const cellOf = (hostId: number, bundleId: number): number | undefined => {
    const r = row.get(hostId);
    const c = column.get(bundleId);
    return r === undefined || c === undefined ? undefined : r * bundles.length + c;
  };
  // Every check's verdict first (110,000 rows for 1,000 x 100, one number each: marshalling five
  // columns per row cost twice as much), in the table's order: a verified result replaces the
  // prediction of its cell whichever comes first. Then the reasons, of the failing checks only.
  const verifiedCells = new Uint8Array(verdicts.length);
  forEachCheck(db, hosts, bundles, (hostId, bundleId, verified, runs) => {
    const cell = cellOf(hostId, bundleId);
    if (cell === undefined || (verified === 0 && verifiedCells[cell] === 1)) return;
    if (verified === 1) verifiedCells[cell] = 1;
    verdicts[cell] = runs === 1 ? (verified === 1 ? VERIFIED : RUNS) : FAILS;
  });
  const failing = db
    .prepare(`SELECT c.host_id, c.bundle_id, c.kind = 'verified', ${FIRST_REASON} FROM checks c WHERE c.runs = 0`)
    .raw()
    .all() as [number, number, number, string | null][];
  for (const [hostId, bundleId, verified, reason] of failing) {
    const cell = cellOf(hostId, bundleId);
    // The reason of the result the cell shows: the verified one when there is one.
    if (cell === undefined || verdicts[cell] !== FAILS || verifiedCells[cell] !== verified) continue;
    reasons.set(cell, reason ?? 'no reason recorded');
  }
  return { bundles, hosts, verdicts, reasons };
}

/** Host ids below this and bundle ids below 2^30 pack into one exact double with the two flags. */
const PACKED_HOST_LIMIT = 2 ** 21;
const HOST_SHIFT = 2 ** 32;

/** Calls `each` with every check's host id, bundle id, verified (0/1) and runs (0/1). */
function forEachCheck(
  db: Database,
  hosts: readonly MatrixHost[],
  bundles: readonly MatrixBundle[],
  each: (hostId: number, bundleId: number, verified: number, runs: number) => void,
): void {
  const packable = hosts.every((h) => h.id < PACKED_HOST_LIMIT) && bundles.every((b) => b.id < HOST_SHIFT / 4);
  if (!packable) {
    const rows = db.prepare(`SELECT c.host_id, c.bundle_id, c.kind = 'verified', c.runs FROM checks c`).raw().all() as [
      number,
      number,
      number,
      number,
    ][];
    for (const [hostId, bundleId, verified, runs] of rows) each(hostId, bundleId, verified, runs);
    return;
  }
  const packed = db
    .prepare(`SELECT c.host_id * ${HOST_SHIFT} + c.bundle_id * 4 + (c.kind = 'verified') * 2 + c.runs FROM checks c`)
    .pluck()
    .all() as number[];
  for (const v of packed) {
    const hostId = Math.floor(v / HOST_SHIFT);
    const low = v - hostId * HOST_SHIFT;
    each(hostId, Math.floor(low / 4), (low >> 1) & 1, low & 1);
  }
}

export interface HostSummary {
  readonly name: string;
  readonly source: string;
  readonly distroId: string;
  readonly distroVersion: string;
  readonly arch: string;
  readonly kernel: string;
  readonly libcKind: string;
  readonly libcVersion: string;
  readonly lastSeen: string | null;
  readonly addedAt: string;
  readonly agentVersion: string;
  readonly inventoryVersion: number;
  readonly inventorySha256: string | null;
  /** When the server stored the host's current inventory. */
  readonly inventoryReceivedAt: string | null;
  /** The inventory's own collectedAt (when the agent or `pyrelo inventory` collected it). */
  readonly collectedAt: string | null;
  /** The loader's page size as the inventory recorded it; null when it did not (4096 is then assumed). */
  readonly pageSize: number | null;
}

export interface HostCheck {
  readonly bundleDigest: string;
  readonly bundleName: string;
  readonly verdict: CellVerdict;
  readonly reason: string | null;
  readonly checkedAt: string;
}

/**
 * The start of an inventory's gzipped body: collectedAt is its second key, in the first hundred
 * bytes of JSON. A kilobyte of gzip inflates to a few (at most about a megabyte, by deflate's ratio).
 */
const BODY_HEAD_BYTES = 1024;

function collectedAtOf(head: Buffer | null): string | null {
  if (head === null || head.length === 0) return null;
  try {
    // The head of a gzip stream: inflated as far as it goes, without asking for its end.
    const text = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 4 * 1024 * 1024 })
      .subarray(0, 4096)
      .toString('utf8');
    return /"collectedAt"\s*:\s*"([^"\\]{1,64})"/.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

export function hostSummary(db: Database, name: string): HostSummary | null {
  const row = db
    .prepare(
      `SELECT h.name, h.source, h.distro_id, h.distro_version, h.arch, h.kernel, h.libc_kind, h.libc_version,
        h.last_seen, h.added_at, h.agent_version, h.inventory_version, i.sha256,
        (SELECT received_at FROM host_inventories v WHERE v.host_id = h.id AND v.version = h.inventory_version),
        CASE WHEN i.index_json IS NULL THEN NULL
          ELSE json_extract(CAST(i.index_json AS TEXT), '$.loader.pageSize') END,
        CASE WHEN i.id IS NULL THEN NULL WHEN i.body_parts > 0
          THEN (SELECT substr(bytes, 1, ${BODY_HEAD_BYTES}) FROM inventory_body_parts
            WHERE sha256 = i.sha256 AND seq = 0)
          ELSE substr(i.body, 1, ${BODY_HEAD_BYTES}) END
      FROM hosts h LEFT JOIN inventories i ON i.id = h.inventory_id WHERE h.name = ?`,
    )
    .raw()
    .get(name) as
    | [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string | null,
        string,
        string,
        number,
        string | null,
        string | null,
        number | null,
        Buffer | null,
      ]
    | undefined;
  if (row === undefined) return null;
  const [host, source, distroId, distroVersion, arch, kernel, libcKind, libcVersion, lastSeen, addedAt] = row;
  return {
    name: host,
    source,
    distroId,
    distroVersion,
    arch,
    kernel,
    libcKind,
    libcVersion,
    lastSeen,
    addedAt,
    agentVersion: row[10],
    inventoryVersion: row[11],
    inventorySha256: row[12],
    inventoryReceivedAt: row[13],
    pageSize: typeof row[14] === 'number' ? row[14] : null,
    collectedAt: collectedAtOf(row[15]),
  };
}

/** Every bundle's verdict on one host (one query). */
export function hostChecks(db: Database, name: string): HostCheck[] {
  const rows = db
    .prepare(
      `SELECT b.digest, b.name, c.kind = 'verified', c.runs, ${FIRST_REASON}, c.checked_at
        FROM checks c JOIN hosts h ON h.id = c.host_id JOIN bundles b ON b.id = c.bundle_id
        WHERE h.name = ? ORDER BY b.name, b.id, c.kind = 'verified'`,
    )
    .raw()
    .all(name) as [string, string, number, number, string | null, string][];
  const byBundle = new Map<string, HostCheck>();
  for (const [digest, bundleName, verified, runs, reason, checkedAt] of rows) {
    // The verified row, when there is one, comes after the prediction and replaces it.
    byBundle.set(digest, {
      bundleDigest: digest,
      bundleName,
      verdict: runs === 1 ? (verified === 1 ? 'verified' : 'runs') : 'fails',
      reason: runs === 1 ? null : (reason ?? 'no reason recorded'),
      checkedAt,
    });
  }
  return [...byBundle.values()];
}

export interface VerifiedRun {
  readonly host: string;
  readonly runs: boolean;
  readonly smokeRan: boolean;
  readonly smokeExit: number;
  readonly reason: string | null;
  readonly checkedAt: string;
}

/** Every verified run of one bundle (one query), the newest first. */
export function verifiedRuns(db: Database, bundleId: number): VerifiedRun[] {
  return (
    db
      .prepare(
        `SELECT h.name, c.runs, c.smoke_ran, c.smoke_exit, ${FIRST_REASON}, c.checked_at
          FROM checks c JOIN hosts h ON h.id = c.host_id
          WHERE c.bundle_id = ? AND c.kind = 'verified' ORDER BY c.checked_at DESC, h.name`,
      )
      .raw()
      .all(bundleId) as [string, number, number, number, string | null, string][]
  ).map(([host, runs, smokeRan, smokeExit, reason, checkedAt]) => ({
    host,
    runs: runs === 1,
    smokeRan: smokeRan === 1,
    smokeExit,
    reason: runs === 1 ? null : (reason ?? 'no reason recorded'),
    checkedAt,
  }));
}

// The compatibility database: one SQLite file (WAL, foreign keys, versioned migrations) holding
// hosts, their inventories (deduplicated by content hash), bundles, and check results with every
// problem. Every write that an agent is told about (an acknowledged report) is committed before
// the acknowledgement leaves, so a crash never loses one.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { inventoryFacts, readInventoryBody, storeInventoryInParts } from './inventory-store.js';
import { DEFAULT_INVENTORIES_PER_HOST } from '../settings.js';
import type {
  BundleInfo,
  CheckKind,
  CheckResult,
  Deployment,
  HostAccess,
  HostInfo,
  ProblemMessage,
} from '../../proto/messages.js';
import { UserInputError } from '../../common/user-input-error.js';

/** An inventory's index and its distinct objects, as stored (src/inventory/inventory-index.ts). */
export interface StoredIndex {
  /** The InventoryIndex's JSON. */
  readonly index: Buffer;
  readonly objects: readonly { readonly sha256: string; readonly body: Buffer }[];
}

export interface HostFacts {
  readonly distroId: string;
  readonly distroVersion: string;
  readonly arch: string;
  readonly kernel: string;
  readonly libcKind: string;
  readonly libcVersion: string;
  /** The loader's x86 ISA level (0 off x86) and page size; absent in facts stored before they were. */
  readonly isaLevel?: number;
  readonly pageSize?: number;
}

export type HostSource = 'agent' | 'import' | 'manual';

/** A host as pyrelo fleet counts it (fleetFacts). */
export interface FleetHostFacts extends Omit<HostFacts, 'isaLevel' | 'pageSize'> {
  readonly name: string;
  readonly source: HostSource;
  readonly hasInventory: boolean;
  /** null when its inventory was stored without an index (before migration 5), or it has none. */
  readonly isaLevel: number | null;
  readonly pageSize: number | null;
  /** When its current inventory was collected; '' when not known. */
  readonly collectedAt: string;
  /** When the server received its current inventory; '' when it has none. */
  readonly receivedAt: string;
}

interface HostRow {
  id: number;
  name: string;
  distro_id: string;
  distro_version: string;
  arch: string;
  kernel: string;
  libc_kind: string;
  libc_version: string;
  source: HostSource;
  inventory_id: number | null;
  inventory_version: number;
  inventory_sha256: string | null;
  last_seen: string | null;
  ssh_target: string;
  ssh_key: string;
  ssh_jump: string;
  chroot: string;
  host_groups: string;
  install_prefix: string;
  agent_version: string;
}

interface BundleRow {
  id: number;
  digest: string;
  name: string;
  size: number;
  libc: string;
  glibc_floor: string | null;
  kernel_floor: string | null;
  python_version: string;
  archive_name: string;
  manifest: string;
  added_at: string;
  elf_files: number;
}

/** A check_problems row as SQLite returns it: read alike for one check and for a whole bundle. */
type ProblemRow = Record<
  'kind' | 'severity' | 'message' | 'file' | 'object' | 'required_by' | 'library' | 'version' | 'symbol',
  string
>;

function problemOf(r: ProblemRow): ProblemMessage {
  return {
    kind: r.kind,
    severity: r.severity,
    message: r.message,
    file: r.file,
    object: r.object,
    requiredBy: r.required_by,
    library: r.library,
    version: r.version,
    symbol: r.symbol,
  };
}

interface CheckRow {
  id: number;
  bundle_id: number;
  host_id: number;
  kind: CheckKind;
  runs: number;
  loads: number;
  files_checked: number;
  glibc_floor: string | null;
  smoke_ran: number;
  smoke_exit: number;
  smoke_output: string;
  checked_at: string;
  inventory_sha256: string | null;
}

export interface StoredBundle extends BundleInfo {
  readonly id: number;
  readonly archiveName: string;
  readonly manifest: string;
}

export interface StoredHost extends HostInfo {
  readonly id: number;
  readonly inventoryId: number | null;
}

export interface NewBundle {
  readonly digest: string;
  readonly name: string;
  readonly size: number;
  readonly libc: string;
  readonly glibcFloor: string | null;
  readonly kernelFloor: string | null;
  readonly pythonVersion: string;
  readonly archiveName: string;
  readonly manifest: string;
  readonly elf: readonly {
    path: string;
    needed: readonly string[];
    versions: Readonly<Record<string, readonly string[]>>;
  }[];
}

export class DatabaseInputError extends UserInputError {
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super(what, detail);
    this.name = 'DatabaseInputError';
  }
}

const now = (): string => new Date().toISOString();

const HOST_SELECT = `SELECT h.*, i.sha256 AS inventory_sha256 FROM hosts h
  LEFT JOIN inventories i ON i.id = h.inventory_id`;
const BUNDLE_SELECT = `SELECT b.*, (SELECT count(*) FROM bundle_elf_needs n WHERE n.bundle_id = b.id) AS elf_files
  FROM bundles b`;

function hostInfo(row: HostRow, connected: boolean): StoredHost {
  return {
    id: row.id,
    inventoryId: row.inventory_id,
    name: row.name,
    distroId: row.distro_id,
    distroVersion: row.distro_version,
    arch: row.arch,
    kernel: row.kernel,
    libcKind: row.libc_kind,
    libcVersion: row.libc_version,
    lastSeen: row.last_seen ?? '',
    agentVersion: row.agent_version,
    inventoryVersion: row.inventory_version,
    inventorySha256: row.inventory_sha256 ?? '',
    source: row.source,
    connected,
    access: accessOf(row),
  };
}

function accessOf(row: HostRow): HostAccess | null {
  const access: HostAccess = {
    ssh: row.ssh_target,
    key: row.ssh_key,
    jump: row.ssh_jump,
    chroot: row.chroot,
    groups: row.host_groups === '' ? [] : row.host_groups.split(','),
    prefix: row.install_prefix,
  };
  return access.ssh === '' && access.chroot === '' && access.groups.length === 0 && access.prefix === ''
    ? null
    : access;
}

function bundleInfo(row: BundleRow): StoredBundle {
  return {
    id: row.id,
    archiveName: row.archive_name,
    manifest: row.manifest,
    digest: row.digest,
    name: row.name,
    size: row.size,
    libc: row.libc,
    glibcFloor: row.glibc_floor ?? '',
    kernelFloor: row.kernel_floor ?? '',
    elfFiles: row.elf_files,
    addedAt: row.added_at,
    pythonVersion: row.python_version,
  };
}

export class CompatDatabase {
  readonly db: SqliteDatabase;

  /**
   * @param inventoriesPerHost how many of a host's inventories are kept (setting
   *   inventoriesPerHost): older versions are forgotten, and a stored body that no host, kept
   *   version or check still names is deleted.
   */
  constructor(
    readonly file: string,
    private readonly inventoriesPerHost = DEFAULT_INVENTORIES_PER_HOST,
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the agent's acknowledgement is sent (kill -9, power loss).
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // Every write transaction here begins IMMEDIATE (takes the write lock first): the intake
    // worker writes on a connection of its own, and a deferred transaction that read before that
    // worker's commit fails at its first write with "database is locked" (SQLITE_BUSY_SNAPSHOT)
    // instead of waiting busy_timeout; bench:soak cut 97 good agents' streams that way.
    this.migrate();
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    for (let version = this.schemaVersion; version < MIGRATIONS.length; version++) {
      this.db
        .transaction(() => {
          this.db.exec(MIGRATIONS[version]!);
          this.db.pragma(`user_version = ${version + 1}`);
        })
        .immediate();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  // --- inventories and hosts -------------------------------------------------------------

  /**
   * Stores gzip'd inventory JSON once per content hash, and its index and objects when given
   * (src/inventory/inventory-index.ts; each object once across all inventories); returns its id. An
   * inventory stored before without an index gets it. Written in short transactions
   * (inventory-store.ts); the server's intake worker stores through the same function.
   */
  storeInventory(sha256: string, gzipped: Buffer, size: number, indexed?: StoredIndex, facts?: HostFacts): number {
    return storeInventoryInParts(this.db, {
      sha256,
      gzipped,
      size,
      ...(indexed && { indexed }),
      ...(facts && { facts }),
    });
  }

  inventoryBody(inventoryId: number): Buffer {
    const body = readInventoryBody(this.db, inventoryId);
    if (body === null) throw new DatabaseInputError(`inventory ${inventoryId}`, 'not stored');
    return body;
  }

  /** A stored inventory by content hash, with the facts of a host that has it (null when none does). */
  inventoryByHash(sha256: string): { id: number; facts: HostFacts | null } | null {
    const row = this.db.prepare('SELECT id FROM inventories WHERE sha256 = ?').get(sha256) as
      { id: number } | undefined;
    if (row === undefined) return null;
    const stored = inventoryFacts(this.db, row.id);
    if (stored !== null) return { id: row.id, facts: stored };
    const host = this.db
      .prepare(
        `SELECT distro_id, distro_version, arch, kernel, libc_kind, libc_version FROM hosts WHERE inventory_id = ?
          LIMIT 1`,
      )
      .get(row.id) as
      Pick<HostRow, 'distro_id' | 'distro_version' | 'arch' | 'kernel' | 'libc_kind' | 'libc_version'> | undefined;
    return {
      id: row.id,
      facts:
        host === undefined
          ? null
          : {
              distroId: host.distro_id,
              distroVersion: host.distro_version,
              arch: host.arch,
              kernel: host.kernel,
              libcKind: host.libc_kind,
              libcVersion: host.libc_version,
            },
    };
  }

  inventoryCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM inventories').get() as { n: number }).n;
  }

  addHost(name: string, source: HostSource = 'manual'): StoredHost {
    checkHostName(name);
    this.db
      .prepare('INSERT INTO hosts (name, source, added_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING')
      .run(name, source, now());
    return this.host(name)!;
  }

  /**
   * Gives host `name` (created when new) the inventory with id `inventoryId` and its facts. A new
   * version is recorded only when the inventory differs from the host's current one.
   * `collectedAt` is when it was collected ('' when not known: a new one's age is then counted
   * from its receipt, an unchanged one keeps its time).
   */
  setHostInventory(
    name: string,
    facts: HostFacts,
    inventoryId: number,
    source: HostSource,
    seen: boolean,
    collectedAt = '',
  ): { host: StoredHost; changed: boolean } {
    return this.db
      .transaction(() => {
        this.addHost(name, source);
        const host = this.host(name)!;
        const changed = host.inventoryId !== inventoryId;
        if (changed) {
          const version = host.inventoryVersion + 1;
          this.db
            .prepare('INSERT INTO host_inventories (host_id, version, inventory_id, received_at) VALUES (?, ?, ?, ?)')
            .run(host.id, version, inventoryId, now());
          this.db
            .prepare(
              `UPDATE hosts SET distro_id = ?, distro_version = ?, arch = ?, kernel = ?, libc_kind = ?,
              libc_version = ?,
          inventory_id = ?, inventory_version = ?, source = ? WHERE id = ?`,
            )
            .run(
              facts.distroId,
              facts.distroVersion,
              facts.arch,
              facts.kernel,
              facts.libcKind,
              facts.libcVersion,
              inventoryId,
              version,
              source,
              host.id,
            );
        }
        if (changed) this.pruneInventories(host.id, host.inventoryVersion + 1);
        if (changed || collectedAt !== '')
          this.db.prepare('UPDATE hosts SET inventory_collected_at = ? WHERE id = ?').run(collectedAt, host.id);
        if (seen) this.db.prepare('UPDATE hosts SET last_seen = ? WHERE id = ?').run(now(), host.id);
        return { host: this.host(name)!, changed };
      })
      .immediate();
  }

  /**
   * Forgets host `hostId`'s inventory versions older than the last inventoriesPerHost (`latest`
   * is its newest), and deletes the bodies they named that no host, kept version or check names
   * any more (a body a check was made on stays while that check does). Runs inside
   * setHostInventory's transaction.
   */
  private pruneInventories(hostId: number, latest: number): void {
    const dropped = this.db
      .prepare('DELETE FROM host_inventories WHERE host_id = ? AND version <= ? RETURNING inventory_id')
      .all(hostId, latest - this.inventoriesPerHost) as { inventory_id: number }[];
    const unused = this.db.prepare(`DELETE FROM inventories WHERE id = ?
      AND NOT EXISTS (SELECT 1 FROM host_inventories WHERE inventory_id = ?)
      AND NOT EXISTS (SELECT 1 FROM hosts WHERE inventory_id = ?)
      AND NOT EXISTS (SELECT 1 FROM checks WHERE inventory_id = ?)`);
    const uses = this.db.prepare('SELECT sha256 FROM inventory_object_uses WHERE inventory_id = ?').pluck();
    const contentHash = this.db.prepare('SELECT sha256 FROM inventories WHERE id = ?').pluck();
    const parts = this.db.prepare('DELETE FROM inventory_body_parts WHERE sha256 = ?');
    const orphan = this.db.prepare(`DELETE FROM inventory_objects WHERE sha256 = ?
      AND NOT EXISTS (SELECT 1 FROM inventory_object_uses WHERE sha256 = ?)`);
    for (const id of new Set(dropped.map((row) => row.inventory_id))) {
      const objects = uses.all(id) as string[];
      // Its uses go with it (ON DELETE CASCADE); then the objects no other inventory uses.
      const sha256 = contentHash.get(id) as string | undefined;
      if (unused.run(id, id, id, id).changes === 0) continue;
      for (const sha of objects) orphan.run(sha, sha);
      if (sha256 !== undefined) parts.run(sha256);
    }
  }

  /** Stored objects of pre-indexed inventories (src/inventory/inventory-index.ts). */
  inventoryObjectCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM inventory_objects').get() as { n: number }).n;
  }

  /** Replaces how deploy reaches host `name` (created when new). */
  setHostAccess(name: string, access: HostAccess): StoredHost {
    return this.db
      .transaction(() => {
        this.addHost(name, 'manual');
        this.db
          .prepare(
            `UPDATE hosts SET ssh_target = ?, ssh_key = ?, ssh_jump = ?, chroot = ?, host_groups = ?, install_prefix = ?
            WHERE name = ?`,
          )
          .run(access.ssh, access.key, access.jump, access.chroot, access.groups.join(','), access.prefix, name);
        return this.host(name)!;
      })
      .immediate();
  }

  /** What the host's agent said it runs; checked by the hub before it gets here. */
  setAgentVersion(name: string, version: string): void {
    this.db.prepare('UPDATE hosts SET agent_version = ? WHERE name = ?').run(version, name);
  }

  touchHost(name: string): void {
    this.db.prepare('UPDATE hosts SET last_seen = ? WHERE name = ?').run(now(), name);
  }

  /** When the host's current inventory was collected, as its agent says again (checked by the caller). */
  setInventoryCollectedAt(name: string, collectedAt: string): void {
    this.db.prepare('UPDATE hosts SET inventory_collected_at = ? WHERE name = ?').run(collectedAt, name);
  }

  host(name: string, connected = false): StoredHost | null {
    const row = this.db.prepare(`${HOST_SELECT} WHERE h.name = ?`).get(name) as HostRow | undefined;
    return row === undefined ? null : hostInfo(row, connected);
  }

  hosts(isConnected: (name: string) => boolean = () => false): StoredHost[] {
    return (this.db.prepare(`${HOST_SELECT} ORDER BY h.name`).all() as HostRow[]).map((r) =>
      hostInfo(r, isConnected(r.name)),
    );
  }

  /**
   * Every host with the facts pyrelo fleet counts, in one query over the host rows and their
   * inventories' columns (migration 7): no inventory is read.
   */
  fleetFacts(): FleetHostFacts[] {
    const rows = this.db
      .prepare(
        `SELECT h.name, h.source, h.distro_id, h.distro_version, h.arch, h.kernel, h.libc_kind, h.libc_version,
          h.inventory_id IS NOT NULL AS has_inventory, i.isa_level, i.page_size, h.inventory_collected_at,
          (SELECT v.received_at FROM host_inventories v WHERE v.host_id = h.id AND v.version = h.inventory_version)
            AS received_at
        FROM hosts h LEFT JOIN inventories i ON i.id = h.inventory_id ORDER BY h.name`,
      )
      .all() as (Pick<
      HostRow,
      'name' | 'source' | 'distro_id' | 'distro_version' | 'arch' | 'kernel' | 'libc_kind' | 'libc_version'
    > & {
      has_inventory: number;
      isa_level: number | null;
      page_size: number | null;
      inventory_collected_at: string;
      received_at: string | null;
    })[];
    return rows.map((r) => ({
      name: r.name,
      source: r.source,
      distroId: r.distro_id,
      distroVersion: r.distro_version,
      arch: r.arch,
      kernel: r.kernel,
      libcKind: r.libc_kind,
      libcVersion: r.libc_version,
      hasInventory: r.has_inventory === 1,
      isaLevel: r.isa_level,
      pageSize: r.page_size,
      collectedAt: r.inventory_collected_at,
      receivedAt: r.received_at ?? '',
    }));
  }

  hostsWithInventory(): StoredHost[] {
    return (this.db.prepare(`${HOST_SELECT} WHERE h.inventory_id IS NOT NULL ORDER BY h.name`).all() as HostRow[]).map(
      (r) => hostInfo(r, false),
    );
  }

  /**
   * Removes a host with its results, revokes every certificate issued to it (the rows stay, so the
   * certificates stay refused after the host row is gone) and forgets its unused enrollment tokens:
   * a host added again must enroll with a new token. False when there is no such host.
   */
  removeHost(name: string): false | { revokedCertificates: number } {
    return this.db
      .transaction(() => {
        if (this.db.prepare('DELETE FROM hosts WHERE name = ?').run(name).changes === 0) return false as const;
        const revoked = this.db
          .prepare('UPDATE agent_certificates SET revoked_at = ? WHERE host = ? AND revoked_at IS NULL')
          .run(now(), name).changes;
        this.db.prepare('DELETE FROM enroll_tokens WHERE host = ? AND used_at IS NULL').run(name);
        return { revokedCertificates: revoked };
      })
      .immediate();
  }

  // --- bundles ---------------------------------------------------------------------------

  addBundle(bundle: NewBundle): StoredBundle {
    this.db
      .transaction(() => {
        const inserted = this.db
          .prepare(
            `INSERT INTO bundles (digest, name, size, libc, glibc_floor, kernel_floor, python_version, archive_name,
            manifest, added_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(digest) DO NOTHING`,
          )
          .run(
            bundle.digest,
            bundle.name,
            bundle.size,
            bundle.libc,
            bundle.glibcFloor,
            bundle.kernelFloor,
            bundle.pythonVersion,
            bundle.archiveName,
            bundle.manifest,
            now(),
          );
        if (inserted.changes === 0) return;
        const id = Number(inserted.lastInsertRowid);
        const need = this.db.prepare(
          'INSERT INTO bundle_elf_needs (bundle_id, path, needed, versions) VALUES (?, ?, ?, ?)',
        );
        for (const elf of bundle.elf) need.run(id, elf.path, JSON.stringify(elf.needed), JSON.stringify(elf.versions));
      })
      .immediate();
    return this.bundleByDigest(bundle.digest)!;
  }

  bundleByDigest(digest: string): StoredBundle | null {
    const row = this.db.prepare(`${BUNDLE_SELECT} WHERE b.digest = ?`).get(digest) as BundleRow | undefined;
    return row === undefined ? null : bundleInfo(row);
  }

  bundleById(id: number): StoredBundle | null {
    const row = this.db.prepare(`${BUNDLE_SELECT} WHERE b.id = ?`).get(id) as BundleRow | undefined;
    return row === undefined ? null : bundleInfo(row);
  }

  /** A full digest, a unique digest prefix (at least 6 hex digits), or a name (its latest). */
  resolveBundle(ref: string): StoredBundle {
    if (/^[0-9a-f]{6,64}$/.test(ref)) {
      const rows = this.db.prepare(`${BUNDLE_SELECT} WHERE b.digest LIKE ? LIMIT 2`).all(`${ref}%`) as BundleRow[];
      if (rows.length === 1) return bundleInfo(rows[0]!);
      if (rows.length > 1) throw new DatabaseInputError(`bundle ${ref}`, 'digest prefix is ambiguous');
    }
    const row = this.db.prepare(`${BUNDLE_SELECT} WHERE b.name = ? ORDER BY b.id DESC LIMIT 1`).get(ref) as
      BundleRow | undefined;
    if (row === undefined) throw new DatabaseInputError(`bundle ${ref}`, 'no such bundle (pyrelo bundles list)');
    return bundleInfo(row);
  }

  /** Every stored build named `name`, newest first. */
  bundlesNamed(name: string): StoredBundle[] {
    return (this.db.prepare(`${BUNDLE_SELECT} WHERE b.name = ? ORDER BY b.id DESC`).all(name) as BundleRow[]).map(
      bundleInfo,
    );
  }

  bundles(): StoredBundle[] {
    return (this.db.prepare(`${BUNDLE_SELECT} ORDER BY b.name, b.id`).all() as BundleRow[]).map(bundleInfo);
  }

  // --- checks ----------------------------------------------------------------------------

  /** Replaces the bundle x host result of the same kind. Returns the check id. */
  saveCheck(bundleId: number, hostId: number, result: CheckResult, inventoryId: number | null): number {
    return this.db
      .transaction(() => {
        this.db
          .prepare('DELETE FROM checks WHERE bundle_id = ? AND host_id = ? AND kind = ?')
          .run(bundleId, hostId, result.kind);
        const id = Number(
          this.db
            .prepare(
              `INSERT INTO checks (bundle_id, host_id, kind, runs, loads, files_checked, glibc_floor, smoke_ran,
              smoke_exit, smoke_output, inventory_id, checked_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              bundleId,
              hostId,
              result.kind,
              result.runs ? 1 : 0,
              result.loads ? 1 : 0,
              result.filesChecked,
              result.glibcFloor || null,
              result.smokeRan ? 1 : 0,
              result.smokeExit,
              result.smokeOutput,
              inventoryId,
              result.checkedAt || now(),
            ).lastInsertRowid,
        );
        const problem = this.db.prepare(`INSERT INTO check_problems
            (check_id, seq, kind, severity, message, file, object, required_by, library, version, symbol)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
        result.problems.forEach((p, i) =>
          problem.run(
            id,
            i,
            p.kind,
            p.severity,
            p.message,
            p.file,
            p.object,
            p.requiredBy,
            p.library,
            p.version,
            p.symbol,
          ),
        );
        return id;
      })
      .immediate();
  }

  /**
   * A prediction, stored only while host `hostId` still has inventory `inventoryId` (and the bundle
   * is still there): a result computed for an older inventory never replaces a newer one. The
   * check and the write are one transaction. Returns false when nothing was stored.
   */
  saveCheckIfCurrent(bundleId: number, hostId: number, inventoryId: number, result: CheckResult): boolean {
    return this.db
      .transaction(() => {
        const host = this.db.prepare('SELECT inventory_id FROM hosts WHERE id = ?').get(hostId) as
          { inventory_id: number | null } | undefined;
        if (host === undefined || host.inventory_id !== inventoryId) return false;
        if (this.db.prepare('SELECT 1 FROM bundles WHERE id = ?').get(bundleId) === undefined) return false;
        this.saveCheck(bundleId, hostId, result, inventoryId);
        return true;
      })
      .immediate();
  }

  /**
   * One prediction for every host that shares an inventory (predictor.ts computes it once per
   * bundle x inventory): each stored, as saveCheckIfCurrent does, only while its host still has
   * inventory `inventoryId`, all in one transaction. Returns, per host in order, whether it was stored.
   */
  saveChecksIfCurrent(
    bundleId: number,
    inventoryId: number,
    results: readonly { readonly hostId: number; readonly result: CheckResult }[],
  ): boolean[] {
    return this.db
      .transaction(() => results.map((r) => this.saveCheckIfCurrent(bundleId, r.hostId, inventoryId, r.result)))
      .immediate();
  }

  /**
   * A verified result from the host itself: an agent's report (options.reportId) or what pyrelo
   * deploy brought back over SSH (stored with its deployment by recordDeployment). A report id
   * seen before is acknowledged again without a second write: returns false when it was such a
   * duplicate. Lookups and writes are one transaction.
   */
  recordVerified(hostName: string, result: CheckResult, options: { readonly reportId?: string } = {}): boolean {
    const { reportId } = options;
    // The CLI's hints are for a person at the CLI; an agent's report is answered to the agent.
    const hint = (command: string) => (reportId === undefined ? ` (${command})` : '');
    return this.db
      .transaction(() => {
        if (reportId !== undefined && this.hasReport(reportId)) return false;
        const host = this.host(hostName);
        if (host === null) throw new DatabaseInputError(`host ${hostName}`, `not known${hint('pyrelo hosts list')}`);
        const bundle = this.bundleByDigest(result.bundleDigest);
        if (bundle === null)
          throw new DatabaseInputError(
            `bundle ${result.bundleDigest}`,
            `not in the store${hint('pyrelo bundles add')}`,
          );
        const checkId = this.saveCheck(
          bundle.id,
          host.id,
          { ...result, kind: 'verified', host: hostName },
          host.inventoryId,
        );
        if (reportId !== undefined)
          this.db
            .prepare('INSERT INTO agent_reports (report_id, host_id, check_id, received_at) VALUES (?, ?, ?, ?)')
            .run(reportId, host.id, checkId, now());
        this.db.prepare('UPDATE hosts SET last_seen = ? WHERE id = ?').run(now(), host.id);
        return true;
      })
      .immediate();
  }

  /**
   * A deployment and, when the bundle was installed and checked on the host, its verified result:
   * one transaction, so neither is stored without the other (a result that cannot be stored
   * takes the deployment row back with it).
   */
  recordDeployment(d: Deployment, verified: CheckResult | null = null): void {
    this.db
      .transaction(() => {
        const host = this.host(d.host);
        if (host === null) throw new DatabaseInputError(`host ${d.host}`, 'not known (pyrelo hosts list)');
        const bundle = this.bundleByDigest(d.bundleDigest);
        if (bundle === null)
          throw new DatabaseInputError(`bundle ${d.bundleDigest}`, 'not in the store (pyrelo bundles add)');
        if (!['verified', 'failed', 'refused', 'interrupted'].includes(d.status))
          throw new DatabaseInputError(
            `deployment status ${JSON.stringify(d.status)}`,
            'expected verified, failed, refused or interrupted',
          );
        this.db
          .prepare(
            `INSERT INTO deployments (host_id, bundle_id, release, prefix, status, reason, bytes_sent, started_at,
            finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            host.id,
            bundle.id,
            d.release,
            d.prefix,
            d.status,
            d.reason,
            d.bytesSent,
            d.startedAt || now(),
            d.finishedAt || now(),
          );
        if (verified !== null) this.recordVerified(d.host, verified);
      })
      .immediate();
  }

  /** The newest first. */
  deployments(hostName: string, limit = 50): Deployment[] {
    const rows = this.db
      .prepare(
        `SELECT h.name AS host, b.digest, b.name AS bundle_name, d.release, d.prefix, d.status, d.reason, d.bytes_sent,
        d.started_at, d.finished_at
      FROM deployments d JOIN hosts h ON h.id = d.host_id JOIN bundles b ON b.id = d.bundle_id WHERE h.name = ?
      ORDER BY d.id DESC LIMIT ?`,
      )
      .all(hostName, limit) as {
      host: string;
      digest: string;
      bundle_name: string;
      release: string;
      prefix: string;
      status: Deployment['status'];
      reason: string;
      bytes_sent: number;
      started_at: string;
      finished_at: string;
    }[];
    return rows.map((r) => ({
      host: r.host,
      bundleDigest: r.digest,
      bundleName: r.bundle_name,
      release: r.release,
      prefix: r.prefix,
      status: r.status,
      reason: r.reason,
      bytesSent: r.bytes_sent,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }));
  }

  hasReport(reportId: string): boolean {
    return this.db.prepare('SELECT 1 FROM agent_reports WHERE report_id = ?').get(reportId) !== undefined;
  }

  reportCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM agent_reports').get() as { n: number }).n;
  }

  private problemsOf(checkId: number, limit: number): ProblemMessage[] {
    const rows = this.db
      .prepare(
        `SELECT kind, severity, message, file, object, required_by, library, version, symbol FROM check_problems
          WHERE check_id = ? ORDER BY seq LIMIT ?`,
      )
      .all(checkId, limit) as ProblemRow[];
    return rows.map(problemOf);
  }

  private resultOf(row: CheckRow, hostName: string, digest: string, problemLimit: number): CheckResult {
    return {
      bundleDigest: digest,
      host: hostName,
      kind: row.kind,
      runs: row.runs === 1,
      loads: row.loads === 1,
      problems: problemLimit > 0 ? this.problemsOf(row.id, problemLimit) : [],
      filesChecked: row.files_checked,
      glibcFloor: row.glibc_floor ?? '',
      smokeRan: row.smoke_ran === 1,
      smokeExit: row.smoke_exit,
      smokeOutput: row.smoke_output,
      checkedAt: row.checked_at,
      inventorySha256: row.inventory_sha256 ?? '',
    };
  }

  check(bundle: StoredBundle, host: StoredHost, kind: CheckKind, problemLimit = 1_000_000): CheckResult | null {
    const row = this.db
      .prepare(
        `SELECT c.*, i.sha256 AS inventory_sha256 FROM checks c LEFT JOIN inventories i ON i.id = c.inventory_id
      WHERE c.bundle_id = ? AND c.host_id = ? AND c.kind = ?`,
      )
      .get(bundle.id, host.id, kind) as CheckRow | undefined;
    return row === undefined ? null : this.resultOf(row, host.name, bundle.digest, problemLimit);
  }

  /**
   * Every host with its results for one bundle, both kinds: what `pyrelo compat` needs, in three
   * queries whatever the number of hosts (hosts, their checks, the first problems of the failing
   * ones), so that it answers in milliseconds over thousands of hosts.
   */
  resultsForBundle(
    bundle: StoredBundle,
    problemLimit: number,
    isConnected: (name: string) => boolean,
  ): { host: StoredHost; predicted: CheckResult | null; verified: CheckResult | null }[] {
    const hosts = this.hosts(isConnected);
    const rows = this.db
      .prepare(
        `SELECT c.*, i.sha256 AS inventory_sha256 FROM checks c LEFT JOIN inventories i ON i.id = c.inventory_id
          WHERE c.bundle_id = ?`,
      )
      .all(bundle.id) as CheckRow[];
    const problems = new Map<number, ProblemMessage[]>();
    const problemRows = this.db
      .prepare(
        `SELECT p.check_id, p.kind, p.severity, p.message, p.file, p.object, p.required_by, p.library, p.version,
        p.symbol
      FROM check_problems p JOIN checks c ON c.id = p.check_id WHERE c.bundle_id = ? AND c.runs = 0 AND p.seq < ?
      ORDER BY p.check_id, p.seq`,
      )
      .all(bundle.id, problemLimit) as ({ check_id: number } & ProblemRow)[];
    for (const r of problemRows) {
      const list = problems.get(r.check_id) ?? [];
      list.push(problemOf(r));
      problems.set(r.check_id, list);
    }
    const byHost = new Map<number, { predicted?: CheckRow; verified?: CheckRow }>();
    for (const row of rows) {
      const entry = byHost.get(row.host_id) ?? {};
      entry[row.kind] = row;
      byHost.set(row.host_id, entry);
    }
    const read = (row: CheckRow | undefined, hostName: string): CheckResult | null =>
      row === undefined
        ? null
        : { ...this.resultOf(row, hostName, bundle.digest, 0), problems: problems.get(row.id) ?? [] };
    return hosts.map((host) => {
      const entry = byHost.get(host.id) ?? {};
      return { host, predicted: read(entry.predicted, host.name), verified: read(entry.verified, host.name) };
    });
  }

  /** Hosts of a distro (of architecture `arch`, unless '') that have an inventory. */
  inventoriedHostsOf(distroId: string, distroVersion: string, arch = ''): number {
    return this.db
      .prepare(
        `SELECT count(*) FROM hosts WHERE distro_id = ? AND distro_version = ? AND (? = '' OR arch = ?)
          AND inventory_id IS NOT NULL`,
      )
      .pluck()
      .get(distroId, distroVersion, arch, arch) as number;
  }

  /**
   * Per bundle: how many hosts of a distro (of architecture `arch`, unless '') it runs on (verified)
   * or is predicted to run on.
   */
  bundlesForDistro(
    distroId: string,
    distroVersion: string,
    arch = '',
  ): { bundleId: number; verified: number; predicted: number; hosts: number }[] {
    return this.db
      .prepare(
        `
      SELECT c.bundle_id AS bundleId,
             count(DISTINCT CASE WHEN c.kind = 'verified' AND c.runs = 1 THEN c.host_id END) AS verified,
             count(DISTINCT CASE WHEN c.kind = 'predicted' AND c.runs = 1 THEN c.host_id END) AS predicted,
             count(DISTINCT c.host_id) AS hosts
      FROM checks c JOIN hosts h ON h.id = c.host_id
      WHERE h.distro_id = ? AND h.distro_version = ? AND (? = '' OR h.arch = ?)
      GROUP BY c.bundle_id`,
      )
      .all(distroId, distroVersion, arch, arch) as {
      bundleId: number;
      verified: number;
      predicted: number;
      hosts: number;
    }[];
  }

  // --- enrollment tokens -------------------------------------------------------------------

  addEnrollToken(tokenSha256: string, host: string, expiresAt: string): void {
    this.db
      .prepare('INSERT INTO enroll_tokens (token_sha256, host, expires_at) VALUES (?, ?, ?)')
      .run(tokenSha256, host, expiresAt);
  }

  // --- agent certificates ------------------------------------------------------------------

  /** A client certificate issued at enrollment (sha256 of its DER form, lowercase hex). */
  recordCertificate(host: string, sha256: string, serial: string): void {
    this.db
      .prepare(
        `INSERT INTO agent_certificates (sha256, serial, host, issued_at) VALUES (?, ?, ?, ?)
          ON CONFLICT(sha256) DO NOTHING`,
      )
      .run(sha256, serial, host, now());
  }

  /** What the database knows of a client certificate; null for one it never recorded. */
  certificate(sha256: string): { host: string; serial: string; issuedAt: string; revokedAt: string | null } | null {
    const row = this.db
      .prepare('SELECT host, serial, issued_at, revoked_at FROM agent_certificates WHERE sha256 = ?')
      .get(sha256) as { host: string; serial: string; issued_at: string; revoked_at: string | null } | undefined;
    return row === undefined
      ? null
      : { host: row.host, serial: row.serial, issuedAt: row.issued_at, revokedAt: row.revoked_at };
  }

  /** Marks a token used and returns its host; null when unknown, used or expired. */
  /** The host a token is for while it is unused and unexpired; null otherwise. Uses nothing up. */
  enrollTokenHost(tokenSha256: string): string | null {
    const row = this.db
      .prepare('SELECT host, expires_at, used_at FROM enroll_tokens WHERE token_sha256 = ?')
      .get(tokenSha256) as { host: string; expires_at: string; used_at: string | null } | undefined;
    return row === undefined || row.used_at !== null || row.expires_at < now() ? null : row.host;
  }

  consumeEnrollToken(tokenSha256: string): string | null {
    return this.db
      .transaction(() => {
        const row = this.db
          .prepare('SELECT host, expires_at, used_at FROM enroll_tokens WHERE token_sha256 = ?')
          .get(tokenSha256) as { host: string; expires_at: string; used_at: string | null } | undefined;
        if (row === undefined || row.used_at !== null || row.expires_at < now()) return null;
        this.db.prepare('UPDATE enroll_tokens SET used_at = ? WHERE token_sha256 = ?').run(now(), tokenSha256);
        return row.host;
      })
      .immediate();
  }
}

/** Host names become certificate common names and file names: keep them plain. */
export function checkHostName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(name)) {
    throw new DatabaseInputError(
      `host name ${JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)}`,
      'use letters, digits, ".", "_" and "-" (starting with a letter or digit), at most 253 characters',
    );
  }
}

/** A certificate's common name holds at most 64 characters (RFC 5280 ub-common-name). */
export const MAX_AGENT_HOST_NAME = 64;

/** A host whose agent enrolls: its name becomes the certificate's common name. */
export function checkAgentHostName(name: string): void {
  checkHostName(name);
  if (name.length > MAX_AGENT_HOST_NAME) {
    throw new DatabaseInputError(
      `host name ${JSON.stringify(name.slice(0, 40))}… (${name.length} characters)`,
      `an agent's host name is its certificate's common name: at most ${MAX_AGENT_HOST_NAME} characters`,
    );
  }
}

// Versioned schema migrations. PRAGMA user_version holds how many have run; each runs in its own
// transaction, so a crash mid-migration leaves the previous version intact. Append, never edit.

export const MIGRATIONS: readonly string[] = [
  // 1: hosts, deduplicated inventories, bundles, check results and their problems.
  `
  CREATE TABLE inventories (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,          -- of the uncompressed JSON: many hosts share one
    body BLOB NOT NULL,                   -- gzip'd pyrelo-inventory/1 JSON
    size INTEGER NOT NULL,
    stored_at TEXT NOT NULL
  );
  CREATE TABLE hosts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    distro_id TEXT NOT NULL DEFAULT '',
    distro_version TEXT NOT NULL DEFAULT '',
    arch TEXT NOT NULL DEFAULT '',
    kernel TEXT NOT NULL DEFAULT '',
    libc_kind TEXT NOT NULL DEFAULT '',
    libc_version TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('agent', 'import', 'manual')),
    inventory_id INTEGER REFERENCES inventories(id),
    inventory_version INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT,
    added_at TEXT NOT NULL
  );
  CREATE INDEX hosts_distro ON hosts(distro_id, distro_version);
  -- Every inventory a host ever had, numbered; the host row points at the latest.
  CREATE TABLE host_inventories (
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    inventory_id INTEGER NOT NULL REFERENCES inventories(id),
    received_at TEXT NOT NULL,
    PRIMARY KEY (host_id, version)
  );
  CREATE TABLE bundles (
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,          -- sha256 of the packed archive
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    libc TEXT NOT NULL,
    glibc_floor TEXT,
    kernel_floor TEXT,
    python_version TEXT NOT NULL DEFAULT '',
    archive_name TEXT NOT NULL,
    manifest TEXT NOT NULL,               -- pyrelo.json as stored in the bundle
    added_at TEXT NOT NULL
  );
  CREATE INDEX bundles_name ON bundles(name);
  -- What each ELF file of a bundle needs, from its manifest.
  CREATE TABLE bundle_elf_needs (
    bundle_id INTEGER NOT NULL REFERENCES bundles(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    needed TEXT NOT NULL,                 -- JSON list of sonames
    versions TEXT NOT NULL,               -- JSON {soname: [versions]}
    PRIMARY KEY (bundle_id, path)
  );
  -- The latest result of each kind per bundle x host.
  CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    bundle_id INTEGER NOT NULL REFERENCES bundles(id) ON DELETE CASCADE,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('predicted', 'verified')),
    runs INTEGER NOT NULL,
    loads INTEGER NOT NULL,
    files_checked INTEGER NOT NULL,
    glibc_floor TEXT,
    smoke_ran INTEGER NOT NULL DEFAULT 0,
    smoke_exit INTEGER NOT NULL DEFAULT 0,
    smoke_output TEXT NOT NULL DEFAULT '',
    inventory_id INTEGER REFERENCES inventories(id),
    checked_at TEXT NOT NULL,
    UNIQUE (bundle_id, host_id, kind)
  );
  CREATE INDEX checks_host ON checks(host_id);
  CREATE TABLE check_problems (
    check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    file TEXT NOT NULL,
    object TEXT NOT NULL,
    required_by TEXT NOT NULL DEFAULT '',
    library TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    symbol TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (check_id, seq)
  );
  -- Reports an agent sent and the server acknowledged: a re-sent report is stored once.
  CREATE TABLE agent_reports (
    report_id TEXT PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    check_id INTEGER REFERENCES checks(id) ON DELETE SET NULL,
    received_at TEXT NOT NULL
  );
  -- One-time enrollment tokens, stored as sha256 so the database never holds a usable token.
  CREATE TABLE enroll_tokens (
    token_sha256 TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
  );
  `,
  // 2: how deploy reaches a host (SSH or chroot, groups, install prefix), and every deployment.
  `
  ALTER TABLE hosts ADD COLUMN ssh_target TEXT NOT NULL DEFAULT '';
  ALTER TABLE hosts ADD COLUMN ssh_key TEXT NOT NULL DEFAULT '';
  ALTER TABLE hosts ADD COLUMN ssh_jump TEXT NOT NULL DEFAULT '';
  ALTER TABLE hosts ADD COLUMN chroot TEXT NOT NULL DEFAULT '';
  ALTER TABLE hosts ADD COLUMN host_groups TEXT NOT NULL DEFAULT '';   -- comma-separated
  ALTER TABLE hosts ADD COLUMN install_prefix TEXT NOT NULL DEFAULT '';
  CREATE TABLE deployments (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    bundle_id INTEGER NOT NULL REFERENCES bundles(id) ON DELETE CASCADE,
    release TEXT NOT NULL,
    prefix TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('verified', 'failed', 'refused', 'interrupted')),
    reason TEXT NOT NULL DEFAULT '',
    bytes_sent INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
  );
  CREATE INDEX deployments_host ON deployments(host_id, id);
  `,
  // 3: every client certificate issued at enrollment, so that removing a host revokes them. Rows
  // name the host (the certificate's CN) rather than reference hosts(id): they must outlive the host
  // row (no ON DELETE CASCADE), or a removed host's certificate would become unknown, and unknown
  // certificates (issued before this migration) are accepted.
  `
  CREATE TABLE agent_certificates (
    sha256 TEXT PRIMARY KEY,              -- of the DER certificate, lowercase hex
    serial TEXT NOT NULL,                 -- as openssl prints it (hex)
    host TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE INDEX agent_certificates_host ON agent_certificates(host);
  `,
  // 4: the version each host's agent said in its last hello, so an outdated agent is visible.
  `
  ALTER TABLE hosts ADD COLUMN agent_version TEXT NOT NULL DEFAULT '';
  `,
  // 5: inventories stored pre-indexed (src/inventory/inventory-index.ts): the index of each, and
  // its objects once per content hash across all inventories, with which inventory uses which
  // (so that an object no stored inventory uses is deleted with the last one). Inventories stored
  // before have no index: predictions read their body, as before.
  `
  ALTER TABLE inventories ADD COLUMN index_json BLOB;
  CREATE TABLE inventory_objects (
    sha256 TEXT PRIMARY KEY,              -- of body
    body BLOB NOT NULL                    -- a StoredObject's JSON
  ) WITHOUT ROWID;
  CREATE TABLE inventory_object_uses (
    inventory_id INTEGER NOT NULL REFERENCES inventories(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (inventory_id, sha256)
  ) WITHOUT ROWID;
  CREATE INDEX inventory_object_uses_sha256 ON inventory_object_uses(sha256);
  `,
  // 6: inventories written by the intake worker in short transactions (db/inventory-store.ts): a
  // body in parts of BODY_PART_BYTES (body_parts of them; the row's body is then empty), the host
  // facts the inventory gives, and the receipts: the sha256 of bytes as received, so that the same
  // bytes again (a host re-imported, hosts of one image) are known without being parsed.
  `
  ALTER TABLE inventories ADD COLUMN body_parts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE inventories ADD COLUMN facts_json TEXT;
  CREATE TABLE inventory_body_parts (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,                 -- the inventory's content hash
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    UNIQUE (sha256, seq)
  );
  CREATE TABLE inventory_receipts (
    received_sha256 TEXT PRIMARY KEY,     -- of the bytes as received (gzipped or not)
    inventory_id INTEGER NOT NULL REFERENCES inventories(id) ON DELETE CASCADE,
    sent_sha256 TEXT NOT NULL             -- of its JSON (what agents before the content hash announced)
  ) WITHOUT ROWID;
  CREATE INDEX inventory_receipts_inventory ON inventory_receipts(inventory_id);
  `,
  // 7: the facts pyrelo fleet counts besides the host row's (README "pyrelo fleet"): each stored
  // inventory's x86 ISA level and page size (from its loader configuration, read here from the
  // index of those stored before; a missing pageSize is 4096, as loaderConfigOf reads it), and when
  // each host's current inventory was collected (its collectedAt; receipts keep it for bytes taken
  // again without parsing). Inventories stored before migration 5 have no index: their facts stay
  // unknown.
  `
  ALTER TABLE inventories ADD COLUMN isa_level INTEGER;
  ALTER TABLE inventories ADD COLUMN page_size INTEGER;
  UPDATE inventories SET
    isa_level = json_extract(CAST(index_json AS TEXT), '$.loader.isaLevel'),
    page_size = coalesce(json_extract(CAST(index_json AS TEXT), '$.loader.pageSize'), 4096)
    WHERE index_json IS NOT NULL AND json_valid(CAST(index_json AS TEXT));
  ALTER TABLE inventory_receipts ADD COLUMN collected_at TEXT NOT NULL DEFAULT '';
  ALTER TABLE hosts ADD COLUMN inventory_collected_at TEXT NOT NULL DEFAULT '';
  `,
  // 8: inventory_objects as a rowid table with its sha256 in an index of its own. WITHOUT ROWID kept
  // each object's body (kilobytes, with overflow pages) in the key's b-tree, and SQLite reads a
  // cell's whole payload to compare keys there: a look-up by sha256 read several bodies, 0.2-0.5 ms
  // each, and the intake's last transaction, which checks every object of an inventory (687 here),
  // held the write lock 120-400 ms doing so (README "Benchmarks", bench:soak).
  `
  CREATE TABLE inventory_objects_by_rowid (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,          -- of body
    body BLOB NOT NULL                    -- a StoredObject's JSON
  );
  INSERT INTO inventory_objects_by_rowid (sha256, body) SELECT sha256, body FROM inventory_objects;
  DROP TABLE inventory_objects;
  ALTER TABLE inventory_objects_by_rowid RENAME TO inventory_objects;
  `,
];

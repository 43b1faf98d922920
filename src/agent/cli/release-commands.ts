// `pyrelo agent release …`: the host side of `pyrelo deploy`, run by the orchestrator over SSH
// (src/release/ does the work; the JSON shapes are in src/release/types.ts). Exit 0 good, 1 did
// not pass (a release that does not run, rolled back; files that do not verify), 2 bad input.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BundleError } from '../../bundle/errors.js';
import { readCurrent } from '../../release/current.js';
import { installRelease } from '../../release/install.js';
import { ReleaseLayout } from '../../release/layout.js';
import { listReleases } from '../../release/list.js';
import { rollbackRelease } from '../../release/rollback.js';
import { readState } from '../../release/state.js';
import { checkReleaseIntegrity } from '../../release/integrity.js';
import { checkedInstallPrefix } from '../../release/prefix-path.js';
import { InputError } from '../../elf/find-elf-files.js';

interface JsonOption {
  readonly json?: boolean;
}

/**
 * --prefix as given on this host: a relative one is taken from here; a ".." segment is refused
 * (README "Deploy over SSH").
 */
function localPrefix(prefix: string): string {
  return checkedInstallPrefix(
    prefix.startsWith('/') ? prefix : `${process.cwd()}/${prefix}`,
    '--prefix',
    (w, p) => new InputError(w, p),
  );
}

function print(o: JsonOption, value: unknown, lines: () => string[]): void {
  process.stdout.write(o.json ? `${JSON.stringify(value, null, 2)}\n` : `${lines().join('\n')}\n`);
}

export async function runReleaseInstall(
  o: JsonOption & {
    prefix: string;
    archive?: string;
    sha256?: string;
    bundleDigest: string;
    manifestSha256: string;
    base?: string;
  },
): Promise<number> {
  // The SSH session may be gone by the time there is something to say; the install still has to
  // finish (and roll back if needed) rather than die on EPIPE or the hang-up.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  process.on('SIGHUP', () => {});
  const result = await installRelease({
    prefix: localPrefix(o.prefix),
    ...(o.archive !== undefined ? { archive: resolve(o.archive) } : {}),
    ...(o.sha256 !== undefined ? { sha256: o.sha256 } : {}),
    bundleDigest: o.bundleDigest,
    manifestSha256: o.manifestSha256,
    ...(o.base !== undefined ? { base: o.base } : {}),
  });
  print(o, result, () => [
    `${result.release}: ${result.reused ? 'already installed, reused' : 'installed'} in ${result.prefix}`,
    result.status === 'verified'
      ? `  runs (smoke exit ${result.check.smokeExit}); current -> ${result.current}` +
        `${result.previous ? ` (previous ${result.previous})` : ''}`
      : `  does not run: ${result.reason ?? 'check failed'}; ` +
        `${result.current ? `switched back to ${result.current}` : 'no previous release: current removed'}`,
  ]);
  return result.status === 'verified' ? 0 : 1;
}

export function runReleaseList(o: JsonOption & { prefix: string }): number {
  const listing = listReleases(localPrefix(o.prefix));
  print(o, listing, () => {
    if (listing.releases.length === 0) return [`no releases in ${listing.prefix}`];
    const lines = listing.releases.map(
      (r) =>
        `${r.isCurrent ? '*' : r.id === listing.previous ? '-' : ' '} ${r.id}  ${r.status}  ` +
        `${r.installedAt || '(unrecorded)'}`,
    );
    if (listing.leftovers.length > 0) lines.push(`leftovers of interrupted installs: ${listing.leftovers.join(', ')}`);
    return lines;
  });
  return 0;
}

export function runReleaseRollback(o: JsonOption & { prefix: string; to?: string }): number {
  const result = rollbackRelease(localPrefix(o.prefix), o.to);
  print(o, result, () =>
    result.ok
      ? [`current -> ${result.current} (was ${result.previous ?? '-'})`]
      : [
          `not switched: ${o.to ?? 'the previous release'} does not match its manifest`,
          ...result.problems.slice(0, 20).map((p) => `  ${p.path}: ${p.problem}`),
        ],
  );
  return result.ok ? 0 : 1;
}

export function runReleaseVerify(o: JsonOption & { prefix: string; release?: string }): number {
  const layout = new ReleaseLayout(localPrefix(o.prefix));
  const id = o.release ?? readCurrent(layout);
  if (id === null) throw new BundleError(layout.prefix, 'no current release (give --release ID)');
  if (!existsSync(layout.release(id)))
    throw new BundleError(layout.prefix, `no release ${id} (pyrelo agent release list shows what there is)`);
  const result = checkReleaseIntegrity(layout, id, readState(layout).releases[id]?.manifestSha256 || undefined);
  print(o, result, () => [
    `${result.release}: ${result.ok ? 'every file matches the manifest' : `${result.problems.length} problem(s)`}`,
    ...result.problems.slice(0, 20).map((p) => `  ${p.path}: ${p.problem}`),
  ]);
  return result.ok ? 0 : 1;
}

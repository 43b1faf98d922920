// What the lab needs from the machine, and the skip message when it is not there.
// Tests skip (never fail) on a developer machine that is not root; CI runs as root.
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { HOST_BUSYBOX, MUSL_LOADER } from './recipes.js';
import { ensureAarch64Binfmt } from './binfmt.js';

export type LabNeed = 'root' | 'debootstrap' | 'busybox' | 'musl' | 'ssh' | 'arm64';

const INSTALL_HINT = 'run scripts/install-system-deps.sh as root';

function onPath(command: string): boolean {
  const dirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  return dirs.some((dir) => {
    try {
      accessSync(`${dir}/${command}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let namespaceProbe: string | undefined | null = null;

/** uid 0 is not enough inside some containers: actually try a private mount namespace. */
function mountNamespaceProblem(): string | undefined {
  if (namespaceProbe !== null) return namespaceProbe;
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', 'true'], {
    encoding: 'utf8',
  });
  namespaceProbe =
    probe.status === 0
      ? undefined
      : `cannot create mount/PID namespaces here: ${probe.stderr.trim() || probe.error?.message}`;
  return namespaceProbe;
}

/** Why the lab cannot run here, or undefined when it can. */
export function labSkipReason(needs: readonly LabNeed[] = ['root']): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux: chroot and mount namespaces';
  if (process.getuid?.() !== 0) return 'needs root: chroot and mount namespaces';
  for (const tool of ['unshare', 'setpriv', 'mount', 'ip', 'du']) {
    if (!onPath(tool)) return `needs ${tool} (util-linux/iproute2): ${INSTALL_HINT}`;
  }
  const namespaces = mountNamespaceProblem();
  if (namespaces) return namespaces;
  const missing = (path: string) => {
    try {
      accessSync(path, constants.R_OK);
      return false;
    } catch {
      return true;
    }
  };
  const allNeeds = new Set<LabNeed>(needs);
  if (allNeeds.has('debootstrap') && !onPath('debootstrap')) return `needs debootstrap: ${INSTALL_HINT}`;
  if ((allNeeds.has('busybox') || allNeeds.has('musl')) && missing(HOST_BUSYBOX))
    return `needs busybox-static: ${INSTALL_HINT}`;
  if (allNeeds.has('musl') && missing(MUSL_LOADER)) return `needs musl: ${INSTALL_HINT}`;
  // Registering the qemu-aarch64 handler is the check: it says why when it cannot.
  if (allNeeds.has('arm64')) {
    const problem = ensureAarch64Binfmt();
    if (problem) return problem;
  }
  if (allNeeds.has('ssh') && (!onPath('ssh') || !onPath('ssh-keygen'))) return `needs openssh-client: ${INSTALL_HINT}`;
  return undefined;
}

interface Skippable {
  skip(message?: string): void;
}

/** For node:test: `if (skipUnlessLab(t, ['debootstrap'])) return;` */
export function skipUnlessLab(t: Skippable, needs: readonly LabNeed[] = ['root']): boolean {
  const reason = labSkipReason(needs);
  if (reason) t.skip(reason);
  return reason !== undefined;
}

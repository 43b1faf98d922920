// Running arm64 roots on this x86_64 machine: the kernel hands aarch64 ELF programs to
// qemu-user-static through binfmt_misc. The lab registers the handler itself, with the F flag
// (the kernel opens the interpreter at registration time, so it works inside a chroot that has
// no qemu of its own), says what it registered and how to undo it. Where registration is
// impossible (no root, binfmt_misc cannot be mounted, no qemu) the reason is returned, never thrown.
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';
export const QEMU_AARCH64 = '/usr/bin/qemu-aarch64-static';
/** Our own entry name, so that we never change an entry someone else registered. */
export const BINFMT_NAME = 'pyrelo-qemu-aarch64';

/**
 * The ELF header of a little-endian 64-bit aarch64 program (EM_AARCH64 = 0xb7), as Debian's
 * qemu-user-static registers it: e_type's low bit is masked so ET_EXEC and ET_DYN both match.
 */
const MAGIC = '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00';
const MASK = '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';

export function registrationLine(interpreter = QEMU_AARCH64): string {
  return `:${BINFMT_NAME}:M::${MAGIC}:${MASK}:${interpreter}:F`;
}

/** The entry that already hands aarch64 programs to an interpreter with F, ours or the system's. */
function activeAarch64Entry(): string | undefined {
  for (const name of [BINFMT_NAME, 'qemu-aarch64']) {
    const path = `${BINFMT_DIR}/${name}`;
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    if (
      /^enabled$/m.test(text) &&
      /^flags:.*F/m.test(text) &&
      /^magic 7f454c460201010000000000000000000200b700$/m.test(text)
    )
      return path;
  }
  return undefined;
}

function mountBinfmtMisc(): string | undefined {
  if (existsSync(`${BINFMT_DIR}/register`)) return undefined;
  const mounted = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT_DIR], { encoding: 'utf8' });
  if (mounted.status !== 0 || !existsSync(`${BINFMT_DIR}/register`)) {
    return `cannot mount binfmt_misc on ${BINFMT_DIR}: ${mounted.stderr.trim() || 'register file missing'}`;
  }
  return undefined;
}

let outcome: { problem?: string } | undefined;

/**
 * Makes aarch64 programs runnable here (once per process). Returns why it cannot, or undefined.
 * Logs what it registered and how to undo it.
 */
export function ensureAarch64Binfmt(
  log: (line: string) => void = (l) => process.stderr.write(`[lab] ${l}\n`),
): string | undefined {
  if (outcome) return outcome.problem;
  outcome = { problem: registerOnce(log) };
  return outcome.problem;
}

function registerOnce(log: (line: string) => void): string | undefined {
  if (process.platform !== 'linux') return 'arm64 roots need Linux binfmt_misc';
  try {
    accessSync(QEMU_AARCH64, constants.X_OK);
  } catch {
    return `arm64 roots need ${QEMU_AARCH64}: run scripts/install-system-deps.sh as root`;
  }
  if (process.getuid?.() !== 0) return 'arm64 roots need root to register the qemu-aarch64 binfmt handler';
  const mountProblem = mountBinfmtMisc();
  if (mountProblem) return `arm64 roots cannot run here: ${mountProblem}`;
  const existing = activeAarch64Entry();
  if (existing) return undefined;
  try {
    writeFileSync(`${BINFMT_DIR}/register`, registrationLine());
  } catch (error) {
    return (
      `arm64 roots cannot run here: registering ${BINFMT_NAME} in ${BINFMT_DIR}/register failed: ` +
      (error as Error).message
    );
  }
  if (!activeAarch64Entry()) return `arm64 roots cannot run here: ${BINFMT_DIR}/${BINFMT_NAME} did not become enabled`;
  log(
    `registered binfmt_misc handler ${BINFMT_DIR}/${BINFMT_NAME} (aarch64 ELF -> ${QEMU_AARCH64}, flag F); ` +
      `undo with: echo -1 > ${BINFMT_DIR}/${BINFMT_NAME}`,
  );
  return undefined;
}

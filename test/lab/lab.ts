// The lab's public API: what tests import. See README "Testing → The lab".
export {
  ensureRoot,
  describeRoot,
  cleanCache,
  type RootInfo,
  type RootStamp,
  type EnsureOptions,
} from './ensure-root.js';
export { runInRoot, spawnInRoot, type RunOptions, type RunResult, type BindMount, type CopyIn } from './run-in-root.js';
export { startSshHost, type SshHost } from './ssh-host.js';
export { labSkipReason, skipUnlessLab, type LabNeed } from './prerequisites.js';
export { ensureAarch64Binfmt, BINFMT_NAME, BINFMT_DIR } from './binfmt.js';
export { labLayout, DEFAULT_LAB_CACHE } from './paths.js';
export {
  LAB_ROOT_NAMES,
  DEBIAN_ROOT_NAMES,
  ARM64_ROOT_NAMES,
  ALL_ROOT_NAMES,
  AARCH64_GLIBC_LOADER,
  EXPECTED_GLIBC,
  GLIBC_LOADER,
  MUSL_LOADER,
  RECIPE_VERSION,
  type LabRootName,
  type DebianRootName,
  type Arm64RootName,
  type AnyRootName,
} from './recipes.js';

// A bundle predicted on the reference platforms (README "Reference platforms"): from the platform's
// real inventory where the catalog stores one ("predicted from inventory"), otherwise from its
// facts ("predicted from reference"). Both go through checkBundleSide, the bundle rules and the
// loader emulation that every other prediction uses; only the host view differs.

import { bundleSide, predictBundleSide, type BundleSide } from './check-bundle.js';
import { InventoryHostView } from '../inventory/inventory-host.js';
import { ReferenceHostView } from '../inventory/reference-host.js';
import {
  findPlatform,
  platformInventory,
  referencePlatforms,
  type PlatformChoice,
} from '../inventory/platform-catalog.js';
import type { HostView } from '../loader/host-view.js';
import type { CheckResult } from '../proto/messages.js';
import { hostNssFacts } from './check-bundle.js';
import { UserInputError } from '../common/user-input-error.js';

export type PredictionBasis = 'inventory' | 'reference';

export const BASIS_LABELS: Readonly<Record<PredictionBasis, string>> = {
  inventory: 'predicted from inventory',
  reference: 'predicted from reference',
};

export interface PlatformPrediction {
  /** "rhel:8", or "rhel:9/aarch64" for another architecture. */
  readonly platform: string;
  readonly title: string;
  readonly basis: PredictionBasis;
  readonly result: CheckResult;
  /** What the platform's facts could not confirm (data/platforms/<id>.json "uncertain"). */
  readonly uncertain: readonly string[];
}

/** The platform a --platform NAME names; a name the catalog lacks is bad input (exit 2). */
export function choosePlatform(given: string): PlatformChoice {
  const choice = findPlatform(given);
  if (choice !== null) return choice;
  const known = referencePlatforms().map((p) => p.name);
  throw new UserInputError(
    `--platform ${given}`,
    `not a reference platform (known: ${known.join(', ')}; add /ARCH for another architecture)`,
  );
}

function predictOnView(
  view: HostView,
  bundleDir: string,
  digest: string,
  host: string,
  sides: Map<string, BundleSide>,
  nss?: ReturnType<typeof hostNssFacts>,
): CheckResult {
  // The bundle side depends on the host only through its loader's ELF class: shared when it matches.
  const key = `${view.config.machine}:${view.config.elfClass}`;
  let side = sides.get(key);
  if (side === undefined) {
    side = bundleSide(bundleDir, view.config);
    sides.set(key, side);
  }
  return predictBundleSide(view, side, { digest, host, inventorySha256: '' }, nss);
}

/** The prediction from the platform's facts alone, whether or not an inventory exists. */
export function predictFromFacts(
  choice: PlatformChoice,
  bundleDir: string,
  digest: string,
  sides = new Map<string, BundleSide>(),
): CheckResult {
  return predictOnView(
    new ReferenceHostView(choice.platform, choice.arch, choice.label),
    bundleDir,
    digest,
    choice.label,
    sides,
  );
}

/** The prediction on a platform: from its stored inventory when there is one, else from its facts. */
export function predictOnPlatform(
  choice: PlatformChoice,
  bundleDir: string,
  digest: string,
  sides = new Map<string, BundleSide>(),
): PlatformPrediction {
  const inventory = platformInventory(choice.platform, choice.arch);
  const common = { platform: choice.label, title: choice.platform.title, uncertain: choice.platform.uncertain };
  if (inventory === null)
    return { ...common, basis: 'reference', result: predictFromFacts(choice, bundleDir, digest, sides) };
  const view = new InventoryHostView(inventory, `inventory of ${choice.label}`);
  const nss = inventory.nss === undefined ? undefined : hostNssFacts(inventory.nss);
  return { ...common, basis: 'inventory', result: predictOnView(view, bundleDir, digest, choice.label, sides, nss) };
}

/** The bundle on every reference platform, each on its first architecture, in name order. */
export function predictOnAllPlatforms(bundleDir: string, digest: string): PlatformPrediction[] {
  const sides = new Map<string, BundleSide>();
  return referencePlatforms().map((platform) =>
    predictOnPlatform({ platform, arch: platform.architectures[0]!, label: platform.name }, bundleDir, digest, sides),
  );
}

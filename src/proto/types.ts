// TypeScript shapes of the pyrelo.v1 messages as @grpc/proto-loader hands them over (camelCase
// fields, uint64 as number, defaults filled in, oneof bodies named by `body`). Kept by hand next
// to proto/pyrelo/v1/*.proto; the round-trip test in test/server checks they agree.

export type Empty = Record<string, never>;

export interface HostInfo {
  name: string;
  distroId: string;
  distroVersion: string;
  arch: string;
  kernel: string;
  libcKind: string;
  libcVersion: string;
  lastSeen: string;
  /** `pyrelo --version` of the host's agent at its last hello; empty when no agent said hello. */
  agentVersion: string;
  inventoryVersion: number;
  inventorySha256: string;
  source: string;
  connected: boolean;
  access: HostAccess | null;
}

export interface HostAccess {
  ssh: string;
  key: string;
  jump: string;
  chroot: string;
  groups: string[];
  prefix: string;
}

export interface BundleInfo {
  digest: string;
  name: string;
  size: number;
  libc: string;
  glibcFloor: string;
  kernelFloor: string;
  elfFiles: number;
  addedAt: string;
  pythonVersion: string;
}

export interface ProblemMessage {
  kind: string;
  severity: string;
  message: string;
  file: string;
  object: string;
  requiredBy: string;
  library: string;
  version: string;
  symbol: string;
}

export type CheckKind = 'predicted' | 'verified';

export interface CheckResult {
  bundleDigest: string;
  host: string;
  kind: CheckKind;
  runs: boolean;
  loads: boolean;
  problems: ProblemMessage[];
  filesChecked: number;
  glibcFloor: string;
  smokeRan: boolean;
  smokeExit: number;
  smokeOutput: string;
  checkedAt: string;
  inventorySha256: string;
}

export interface BundleChunk {
  digest: string;
  offset: number;
  totalSize: number;
  data: Buffer;
  name: string;
}

export interface BuildRequest {
  project: string;
  python: string;
  pythonSource: string;
  requirements: string;
  wheelhouse: string;
  libc: string;
  minGlibc: string;
  entries: string[];
  smoke: string;
  prompt: string;
  withoutPip: boolean;
  noSlim: boolean;
  indexUrl: string;
  sourceless: boolean;
  /** pyrelo build --allow-missing, repeated; absent from older clients (proto3 then gives []). */
  allowMissing?: string[];
}
export type BuildEvent = { body: 'line'; line: string } | { body: 'bundle'; bundle: BundleInfo };
export interface BundleRef { bundle: string }
export interface HostRef { name: string }
export interface BundleList { bundles: BundleInfo[] }
export interface HostList { hosts: HostInfo[] }
export interface AddHostRequest { name: string; access: HostAccess | null }
export interface ImportInventoryRequest { name: string; inventory: Buffer; takenOnHost: boolean }
export interface RecordCheckRequest { host: string; result: CheckResult }
export type DeploymentStatus = 'verified' | 'failed' | 'refused' | 'interrupted';
export interface Deployment {
  host: string;
  bundleDigest: string;
  release: string;
  prefix: string;
  status: DeploymentStatus;
  reason: string;
  bytesSent: number;
  startedAt: string;
  finishedAt: string;
  bundleName: string;
}
export interface DeploymentList { deployments: Deployment[] }
export interface CheckRequest { bundle: string; host: string; verify: boolean; timeoutMs: number }
export interface CheckResponse { predicted: CheckResult | null; verified: CheckResult | null; note: string }
export interface CompatRequest { bundle: string }
export interface InstallRequest { bundle: string; host: string; prefix: string; force: boolean; timeoutMs: number }
export interface InstallResponse { predicted: CheckResult | null; verified: CheckResult | null; deployment: Deployment | null }

export type Verdict = 'runs' | 'predicted' | 'fails' | 'unknown';

export interface HostVerdict {
  host: HostInfo;
  verdict: Verdict;
  result: CheckResult | null;
  predictionAgrees: boolean;
}
export interface DistroVerdict {
  distro: string;
  runs: number;
  predicted: number;
  fails: number;
  unknown: number;
  reasons: string[];
}
export interface CompatResponse { bundle: BundleInfo; distros: DistroVerdict[]; hosts: HostVerdict[]; others: BundleInfo[] }
export interface DistroRequest { distro: string }
export interface DistroBundle { bundle: BundleInfo; verdict: Verdict; hosts: number }
export interface DistroResponse { bundles: DistroBundle[] }
export interface EnrollToken { token: string; host: string; expiresAt: string }

export interface Hello { host: string; agentVersion: string; inventory: Buffer; inventorySha256: string }
export interface Heartbeat { sequence: number; sentAt: string }
export interface Report { reportId: string; orderId: string; result: CheckResult | null; error: string }
export type AgentMessage =
  | { body: 'hello'; hello: Hello }
  | { body: 'heartbeat'; heartbeat: Heartbeat }
  | { body: 'report'; report: Report };

export interface Welcome { host: string; needInventory: boolean }
export interface Ack { reportId: string }
export interface HeartbeatAck { sequence: number }
export type OrderAction = 'check' | 'install';
export interface Order { orderId: string; action: OrderAction; bundleDigest: string; bundleSize: number; bundleName: string; prefix: string; manifestSha256: string }
export type ServerMessage =
  | { body: 'welcome'; welcome: Welcome }
  | { body: 'ack'; ack: Ack }
  | { body: 'order'; order: Order }
  | { body: 'heartbeatAck'; heartbeatAck: HeartbeatAck };

export interface FetchRequest { digest: string; offset: number; chunkSize: number }
export interface EnrollRequest { token: string; publicKeyPem: string }
export interface EnrollResponse { host: string; certificatePem: string; caCertificatePem: string }

// The pyrelo.v1 messages under the names the rest of the code uses, from the generated types
// (src/proto/generated/, `npm run proto:gen`). Each name is the complete message as grpc-js hands
// it over with src/proto/load.ts's options (the generator's `__Output`: every field present,
// defaults filled in, uint64 as number, a message field null when absent, oneofs named by `body`).
// What the code builds to send is complete too, and a complete message fits the generator's
// permissive input type, so one name serves both sides; the services' generated `…Handlers` and
// `…Client` interfaces say which side each call is on.

export type { Ack__Output as Ack } from './generated/pyrelo/v1/Ack.js';
export type { AddHostRequest__Output as AddHostRequest } from './generated/pyrelo/v1/AddHostRequest.js';
export type { AgentMessage__Output as AgentMessage } from './generated/pyrelo/v1/AgentMessage.js';
export type { BuildEvent__Output as BuildEvent } from './generated/pyrelo/v1/BuildEvent.js';
export type { BuildRequest__Output as BuildRequest } from './generated/pyrelo/v1/BuildRequest.js';
export type { BundleChunk__Output as BundleChunk } from './generated/pyrelo/v1/BundleChunk.js';
export type { Blocker__Output as Blocker } from './generated/pyrelo/v1/Blocker.js';
export type { BundleInfo__Output as BundleInfo } from './generated/pyrelo/v1/BundleInfo.js';
export type { BundleList__Output as BundleList } from './generated/pyrelo/v1/BundleList.js';
export type { BundleRef__Output as BundleRef } from './generated/pyrelo/v1/BundleRef.js';
export type { CheckRequest__Output as CheckRequest } from './generated/pyrelo/v1/CheckRequest.js';
export type { CheckResponse__Output as CheckResponse } from './generated/pyrelo/v1/CheckResponse.js';
export type { CheckResult__Output as CheckResult } from './generated/pyrelo/v1/CheckResult.js';
export type { CompatRequest__Output as CompatRequest } from './generated/pyrelo/v1/CompatRequest.js';
export type { CompatResponse__Output as CompatResponse } from './generated/pyrelo/v1/CompatResponse.js';
export type { Deployment__Output as Deployment } from './generated/pyrelo/v1/Deployment.js';
export type { DeploymentList__Output as DeploymentList } from './generated/pyrelo/v1/DeploymentList.js';
export type { DistroBundle__Output as DistroBundle } from './generated/pyrelo/v1/DistroBundle.js';
export type { DistroRequest__Output as DistroRequest } from './generated/pyrelo/v1/DistroRequest.js';
export type { DistroResponse__Output as DistroResponse } from './generated/pyrelo/v1/DistroResponse.js';
export type { DistroVerdict__Output as DistroVerdict } from './generated/pyrelo/v1/DistroVerdict.js';
export type { DistroCount__Output as DistroCount } from './generated/pyrelo/v1/DistroCount.js';
export type { Empty__Output as Empty } from './generated/pyrelo/v1/Empty.js';
export type { EnrollRequest__Output as EnrollRequest } from './generated/pyrelo/v1/EnrollRequest.js';
export type { EnrollResponse__Output as EnrollResponse } from './generated/pyrelo/v1/EnrollResponse.js';
export type { EnrollToken__Output as EnrollToken } from './generated/pyrelo/v1/EnrollToken.js';
export type { FetchRequest__Output as FetchRequest } from './generated/pyrelo/v1/FetchRequest.js';
export type { FleetRequest__Output as FleetRequest } from './generated/pyrelo/v1/FleetRequest.js';
export type { FleetResponse__Output as FleetResponse } from './generated/pyrelo/v1/FleetResponse.js';
export type { FleetValue__Output as FleetValue } from './generated/pyrelo/v1/FleetValue.js';
export type { Heartbeat__Output as Heartbeat } from './generated/pyrelo/v1/Heartbeat.js';
export type { HeartbeatAck__Output as HeartbeatAck } from './generated/pyrelo/v1/HeartbeatAck.js';
export type { Hello__Output as Hello } from './generated/pyrelo/v1/Hello.js';
export type { HostAccess__Output as HostAccess } from './generated/pyrelo/v1/HostAccess.js';
export type { HostInfo__Output as HostInfo } from './generated/pyrelo/v1/HostInfo.js';
export type { HostList__Output as HostList } from './generated/pyrelo/v1/HostList.js';
export type { HostRef__Output as HostRef } from './generated/pyrelo/v1/HostRef.js';
export type { HostVerdict__Output as HostVerdict } from './generated/pyrelo/v1/HostVerdict.js';
// eslint-disable-next-line max-len -- one re-export of a generated module; the name and path are data
export type { ImportInventoryRequest__Output as ImportInventoryRequest } from './generated/pyrelo/v1/ImportInventoryRequest.js';
export type { InstallRequest__Output as InstallRequest } from './generated/pyrelo/v1/InstallRequest.js';
export type { InstallResponse__Output as InstallResponse } from './generated/pyrelo/v1/InstallResponse.js';
export type { Order__Output as Order } from './generated/pyrelo/v1/Order.js';
export type { PlatformVerdict__Output as PlatformVerdict } from './generated/pyrelo/v1/PlatformVerdict.js';
export type { Problem__Output as ProblemMessage } from './generated/pyrelo/v1/Problem.js';
// eslint-disable-next-line max-len -- one re-export of a generated module; the name and path are data
export type { RecordDeploymentRequest__Output as RecordDeploymentRequest } from './generated/pyrelo/v1/RecordDeploymentRequest.js';
export type { Report__Output as Report } from './generated/pyrelo/v1/Report.js';
export type { ServerMessage__Output as ServerMessage } from './generated/pyrelo/v1/ServerMessage.js';
export type { ServerStatus__Output as ServerStatus } from './generated/pyrelo/v1/ServerStatus.js';
export type { StaleHost__Output as StaleHost } from './generated/pyrelo/v1/StaleHost.js';
export type { StatusRequest__Output as StatusRequest } from './generated/pyrelo/v1/StatusRequest.js';
export type { Welcome__Output as Welcome } from './generated/pyrelo/v1/Welcome.js';

// Words the .proto files keep in string fields (their comments list them): what the code writes
// there. What it reads there is any string, and is checked before it is trusted.

/** CheckResult.kind: predicted from a stored inventory, or verified on the host itself. */
export type CheckKind = 'predicted' | 'verified';
const DEPLOYMENT_STATUSES = ['verified', 'failed', 'refused', 'interrupted'] as const;
/** Deployment.status. */
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
export function isDeploymentStatus(word: string): word is DeploymentStatus {
  return (DEPLOYMENT_STATUSES as readonly string[]).includes(word);
}
/** HostVerdict.verdict and DistroBundle.verdict. */
export type Verdict = 'runs' | 'predicted' | 'fails' | 'unknown';
/** Order.action. */
export type OrderAction = 'check' | 'install';

import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddHostRequest as _pyrelo_v1_AddHostRequest, AddHostRequest__Output as _pyrelo_v1_AddHostRequest__Output } from './pyrelo/v1/AddHostRequest.js';
import type { Blocker as _pyrelo_v1_Blocker, Blocker__Output as _pyrelo_v1_Blocker__Output } from './pyrelo/v1/Blocker.js';
import type { BuildEvent as _pyrelo_v1_BuildEvent, BuildEvent__Output as _pyrelo_v1_BuildEvent__Output } from './pyrelo/v1/BuildEvent.js';
import type { BuildRequest as _pyrelo_v1_BuildRequest, BuildRequest__Output as _pyrelo_v1_BuildRequest__Output } from './pyrelo/v1/BuildRequest.js';
import type { BundleChunk as _pyrelo_v1_BundleChunk, BundleChunk__Output as _pyrelo_v1_BundleChunk__Output } from './pyrelo/v1/BundleChunk.js';
import type { BundleInfo as _pyrelo_v1_BundleInfo, BundleInfo__Output as _pyrelo_v1_BundleInfo__Output } from './pyrelo/v1/BundleInfo.js';
import type { BundleList as _pyrelo_v1_BundleList, BundleList__Output as _pyrelo_v1_BundleList__Output } from './pyrelo/v1/BundleList.js';
import type { BundleRef as _pyrelo_v1_BundleRef, BundleRef__Output as _pyrelo_v1_BundleRef__Output } from './pyrelo/v1/BundleRef.js';
import type { CheckRequest as _pyrelo_v1_CheckRequest, CheckRequest__Output as _pyrelo_v1_CheckRequest__Output } from './pyrelo/v1/CheckRequest.js';
import type { CheckResponse as _pyrelo_v1_CheckResponse, CheckResponse__Output as _pyrelo_v1_CheckResponse__Output } from './pyrelo/v1/CheckResponse.js';
import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from './pyrelo/v1/CheckResult.js';
import type { CompatRequest as _pyrelo_v1_CompatRequest, CompatRequest__Output as _pyrelo_v1_CompatRequest__Output } from './pyrelo/v1/CompatRequest.js';
import type { CompatResponse as _pyrelo_v1_CompatResponse, CompatResponse__Output as _pyrelo_v1_CompatResponse__Output } from './pyrelo/v1/CompatResponse.js';
import type { ControlClient as _pyrelo_v1_ControlClient, ControlDefinition as _pyrelo_v1_ControlDefinition } from './pyrelo/v1/Control.js';
import type { Deployment as _pyrelo_v1_Deployment, Deployment__Output as _pyrelo_v1_Deployment__Output } from './pyrelo/v1/Deployment.js';
import type { DeploymentList as _pyrelo_v1_DeploymentList, DeploymentList__Output as _pyrelo_v1_DeploymentList__Output } from './pyrelo/v1/DeploymentList.js';
import type { DistroBundle as _pyrelo_v1_DistroBundle, DistroBundle__Output as _pyrelo_v1_DistroBundle__Output } from './pyrelo/v1/DistroBundle.js';
import type { DistroCount as _pyrelo_v1_DistroCount, DistroCount__Output as _pyrelo_v1_DistroCount__Output } from './pyrelo/v1/DistroCount.js';
import type { DistroRequest as _pyrelo_v1_DistroRequest, DistroRequest__Output as _pyrelo_v1_DistroRequest__Output } from './pyrelo/v1/DistroRequest.js';
import type { DistroResponse as _pyrelo_v1_DistroResponse, DistroResponse__Output as _pyrelo_v1_DistroResponse__Output } from './pyrelo/v1/DistroResponse.js';
import type { DistroVerdict as _pyrelo_v1_DistroVerdict, DistroVerdict__Output as _pyrelo_v1_DistroVerdict__Output } from './pyrelo/v1/DistroVerdict.js';
import type { Empty as _pyrelo_v1_Empty, Empty__Output as _pyrelo_v1_Empty__Output } from './pyrelo/v1/Empty.js';
import type { EnrollToken as _pyrelo_v1_EnrollToken, EnrollToken__Output as _pyrelo_v1_EnrollToken__Output } from './pyrelo/v1/EnrollToken.js';
import type { FleetRequest as _pyrelo_v1_FleetRequest, FleetRequest__Output as _pyrelo_v1_FleetRequest__Output } from './pyrelo/v1/FleetRequest.js';
import type { FleetResponse as _pyrelo_v1_FleetResponse, FleetResponse__Output as _pyrelo_v1_FleetResponse__Output } from './pyrelo/v1/FleetResponse.js';
import type { FleetValue as _pyrelo_v1_FleetValue, FleetValue__Output as _pyrelo_v1_FleetValue__Output } from './pyrelo/v1/FleetValue.js';
import type { HostAccess as _pyrelo_v1_HostAccess, HostAccess__Output as _pyrelo_v1_HostAccess__Output } from './pyrelo/v1/HostAccess.js';
import type { HostInfo as _pyrelo_v1_HostInfo, HostInfo__Output as _pyrelo_v1_HostInfo__Output } from './pyrelo/v1/HostInfo.js';
import type { HostList as _pyrelo_v1_HostList, HostList__Output as _pyrelo_v1_HostList__Output } from './pyrelo/v1/HostList.js';
import type { HostRef as _pyrelo_v1_HostRef, HostRef__Output as _pyrelo_v1_HostRef__Output } from './pyrelo/v1/HostRef.js';
import type { HostVerdict as _pyrelo_v1_HostVerdict, HostVerdict__Output as _pyrelo_v1_HostVerdict__Output } from './pyrelo/v1/HostVerdict.js';
import type { ImportInventoryRequest as _pyrelo_v1_ImportInventoryRequest, ImportInventoryRequest__Output as _pyrelo_v1_ImportInventoryRequest__Output } from './pyrelo/v1/ImportInventoryRequest.js';
import type { InstallRequest as _pyrelo_v1_InstallRequest, InstallRequest__Output as _pyrelo_v1_InstallRequest__Output } from './pyrelo/v1/InstallRequest.js';
import type { InstallResponse as _pyrelo_v1_InstallResponse, InstallResponse__Output as _pyrelo_v1_InstallResponse__Output } from './pyrelo/v1/InstallResponse.js';
import type { PlatformVerdict as _pyrelo_v1_PlatformVerdict, PlatformVerdict__Output as _pyrelo_v1_PlatformVerdict__Output } from './pyrelo/v1/PlatformVerdict.js';
import type { Problem as _pyrelo_v1_Problem, Problem__Output as _pyrelo_v1_Problem__Output } from './pyrelo/v1/Problem.js';
import type { RecordDeploymentRequest as _pyrelo_v1_RecordDeploymentRequest, RecordDeploymentRequest__Output as _pyrelo_v1_RecordDeploymentRequest__Output } from './pyrelo/v1/RecordDeploymentRequest.js';
import type { ServerStatus as _pyrelo_v1_ServerStatus, ServerStatus__Output as _pyrelo_v1_ServerStatus__Output } from './pyrelo/v1/ServerStatus.js';
import type { StaleHost as _pyrelo_v1_StaleHost, StaleHost__Output as _pyrelo_v1_StaleHost__Output } from './pyrelo/v1/StaleHost.js';
import type { StatusRequest as _pyrelo_v1_StatusRequest, StatusRequest__Output as _pyrelo_v1_StatusRequest__Output } from './pyrelo/v1/StatusRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  pyrelo: {
    v1: {
      AddHostRequest: MessageTypeDefinition<_pyrelo_v1_AddHostRequest, _pyrelo_v1_AddHostRequest__Output>
      Blocker: MessageTypeDefinition<_pyrelo_v1_Blocker, _pyrelo_v1_Blocker__Output>
      BuildEvent: MessageTypeDefinition<_pyrelo_v1_BuildEvent, _pyrelo_v1_BuildEvent__Output>
      BuildRequest: MessageTypeDefinition<_pyrelo_v1_BuildRequest, _pyrelo_v1_BuildRequest__Output>
      BundleChunk: MessageTypeDefinition<_pyrelo_v1_BundleChunk, _pyrelo_v1_BundleChunk__Output>
      BundleInfo: MessageTypeDefinition<_pyrelo_v1_BundleInfo, _pyrelo_v1_BundleInfo__Output>
      BundleList: MessageTypeDefinition<_pyrelo_v1_BundleList, _pyrelo_v1_BundleList__Output>
      BundleRef: MessageTypeDefinition<_pyrelo_v1_BundleRef, _pyrelo_v1_BundleRef__Output>
      CheckRequest: MessageTypeDefinition<_pyrelo_v1_CheckRequest, _pyrelo_v1_CheckRequest__Output>
      CheckResponse: MessageTypeDefinition<_pyrelo_v1_CheckResponse, _pyrelo_v1_CheckResponse__Output>
      CheckResult: MessageTypeDefinition<_pyrelo_v1_CheckResult, _pyrelo_v1_CheckResult__Output>
      CompatRequest: MessageTypeDefinition<_pyrelo_v1_CompatRequest, _pyrelo_v1_CompatRequest__Output>
      CompatResponse: MessageTypeDefinition<_pyrelo_v1_CompatResponse, _pyrelo_v1_CompatResponse__Output>
      Control: SubtypeConstructor<typeof grpc.Client, _pyrelo_v1_ControlClient> & { service: _pyrelo_v1_ControlDefinition }
      Deployment: MessageTypeDefinition<_pyrelo_v1_Deployment, _pyrelo_v1_Deployment__Output>
      DeploymentList: MessageTypeDefinition<_pyrelo_v1_DeploymentList, _pyrelo_v1_DeploymentList__Output>
      DistroBundle: MessageTypeDefinition<_pyrelo_v1_DistroBundle, _pyrelo_v1_DistroBundle__Output>
      DistroCount: MessageTypeDefinition<_pyrelo_v1_DistroCount, _pyrelo_v1_DistroCount__Output>
      DistroRequest: MessageTypeDefinition<_pyrelo_v1_DistroRequest, _pyrelo_v1_DistroRequest__Output>
      DistroResponse: MessageTypeDefinition<_pyrelo_v1_DistroResponse, _pyrelo_v1_DistroResponse__Output>
      DistroVerdict: MessageTypeDefinition<_pyrelo_v1_DistroVerdict, _pyrelo_v1_DistroVerdict__Output>
      Empty: MessageTypeDefinition<_pyrelo_v1_Empty, _pyrelo_v1_Empty__Output>
      EnrollToken: MessageTypeDefinition<_pyrelo_v1_EnrollToken, _pyrelo_v1_EnrollToken__Output>
      FleetRequest: MessageTypeDefinition<_pyrelo_v1_FleetRequest, _pyrelo_v1_FleetRequest__Output>
      FleetResponse: MessageTypeDefinition<_pyrelo_v1_FleetResponse, _pyrelo_v1_FleetResponse__Output>
      FleetValue: MessageTypeDefinition<_pyrelo_v1_FleetValue, _pyrelo_v1_FleetValue__Output>
      HostAccess: MessageTypeDefinition<_pyrelo_v1_HostAccess, _pyrelo_v1_HostAccess__Output>
      HostInfo: MessageTypeDefinition<_pyrelo_v1_HostInfo, _pyrelo_v1_HostInfo__Output>
      HostList: MessageTypeDefinition<_pyrelo_v1_HostList, _pyrelo_v1_HostList__Output>
      HostRef: MessageTypeDefinition<_pyrelo_v1_HostRef, _pyrelo_v1_HostRef__Output>
      HostVerdict: MessageTypeDefinition<_pyrelo_v1_HostVerdict, _pyrelo_v1_HostVerdict__Output>
      ImportInventoryRequest: MessageTypeDefinition<_pyrelo_v1_ImportInventoryRequest, _pyrelo_v1_ImportInventoryRequest__Output>
      InstallRequest: MessageTypeDefinition<_pyrelo_v1_InstallRequest, _pyrelo_v1_InstallRequest__Output>
      InstallResponse: MessageTypeDefinition<_pyrelo_v1_InstallResponse, _pyrelo_v1_InstallResponse__Output>
      PlatformVerdict: MessageTypeDefinition<_pyrelo_v1_PlatformVerdict, _pyrelo_v1_PlatformVerdict__Output>
      Problem: MessageTypeDefinition<_pyrelo_v1_Problem, _pyrelo_v1_Problem__Output>
      RecordDeploymentRequest: MessageTypeDefinition<_pyrelo_v1_RecordDeploymentRequest, _pyrelo_v1_RecordDeploymentRequest__Output>
      ServerStatus: MessageTypeDefinition<_pyrelo_v1_ServerStatus, _pyrelo_v1_ServerStatus__Output>
      StaleHost: MessageTypeDefinition<_pyrelo_v1_StaleHost, _pyrelo_v1_StaleHost__Output>
      StatusRequest: MessageTypeDefinition<_pyrelo_v1_StatusRequest, _pyrelo_v1_StatusRequest__Output>
    }
  }
}


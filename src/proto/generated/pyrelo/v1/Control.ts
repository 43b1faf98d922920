// Original file: proto/pyrelo/v1/control.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddHostRequest as _pyrelo_v1_AddHostRequest, AddHostRequest__Output as _pyrelo_v1_AddHostRequest__Output } from '../../pyrelo/v1/AddHostRequest.js';
import type { BuildEvent as _pyrelo_v1_BuildEvent, BuildEvent__Output as _pyrelo_v1_BuildEvent__Output } from '../../pyrelo/v1/BuildEvent.js';
import type { BuildRequest as _pyrelo_v1_BuildRequest, BuildRequest__Output as _pyrelo_v1_BuildRequest__Output } from '../../pyrelo/v1/BuildRequest.js';
import type { BundleChunk as _pyrelo_v1_BundleChunk, BundleChunk__Output as _pyrelo_v1_BundleChunk__Output } from '../../pyrelo/v1/BundleChunk.js';
import type { BundleInfo as _pyrelo_v1_BundleInfo, BundleInfo__Output as _pyrelo_v1_BundleInfo__Output } from '../../pyrelo/v1/BundleInfo.js';
import type { BundleList as _pyrelo_v1_BundleList, BundleList__Output as _pyrelo_v1_BundleList__Output } from '../../pyrelo/v1/BundleList.js';
import type { BundleRef as _pyrelo_v1_BundleRef, BundleRef__Output as _pyrelo_v1_BundleRef__Output } from '../../pyrelo/v1/BundleRef.js';
import type { CheckRequest as _pyrelo_v1_CheckRequest, CheckRequest__Output as _pyrelo_v1_CheckRequest__Output } from '../../pyrelo/v1/CheckRequest.js';
import type { CheckResponse as _pyrelo_v1_CheckResponse, CheckResponse__Output as _pyrelo_v1_CheckResponse__Output } from '../../pyrelo/v1/CheckResponse.js';
import type { CompatRequest as _pyrelo_v1_CompatRequest, CompatRequest__Output as _pyrelo_v1_CompatRequest__Output } from '../../pyrelo/v1/CompatRequest.js';
import type { CompatResponse as _pyrelo_v1_CompatResponse, CompatResponse__Output as _pyrelo_v1_CompatResponse__Output } from '../../pyrelo/v1/CompatResponse.js';
import type { DeploymentList as _pyrelo_v1_DeploymentList, DeploymentList__Output as _pyrelo_v1_DeploymentList__Output } from '../../pyrelo/v1/DeploymentList.js';
import type { DistroRequest as _pyrelo_v1_DistroRequest, DistroRequest__Output as _pyrelo_v1_DistroRequest__Output } from '../../pyrelo/v1/DistroRequest.js';
import type { DistroResponse as _pyrelo_v1_DistroResponse, DistroResponse__Output as _pyrelo_v1_DistroResponse__Output } from '../../pyrelo/v1/DistroResponse.js';
import type { Empty as _pyrelo_v1_Empty, Empty__Output as _pyrelo_v1_Empty__Output } from '../../pyrelo/v1/Empty.js';
import type { EnrollToken as _pyrelo_v1_EnrollToken, EnrollToken__Output as _pyrelo_v1_EnrollToken__Output } from '../../pyrelo/v1/EnrollToken.js';
import type { FleetRequest as _pyrelo_v1_FleetRequest, FleetRequest__Output as _pyrelo_v1_FleetRequest__Output } from '../../pyrelo/v1/FleetRequest.js';
import type { FleetResponse as _pyrelo_v1_FleetResponse, FleetResponse__Output as _pyrelo_v1_FleetResponse__Output } from '../../pyrelo/v1/FleetResponse.js';
import type { HostInfo as _pyrelo_v1_HostInfo, HostInfo__Output as _pyrelo_v1_HostInfo__Output } from '../../pyrelo/v1/HostInfo.js';
import type { HostList as _pyrelo_v1_HostList, HostList__Output as _pyrelo_v1_HostList__Output } from '../../pyrelo/v1/HostList.js';
import type { HostRef as _pyrelo_v1_HostRef, HostRef__Output as _pyrelo_v1_HostRef__Output } from '../../pyrelo/v1/HostRef.js';
import type { ImportInventoryRequest as _pyrelo_v1_ImportInventoryRequest, ImportInventoryRequest__Output as _pyrelo_v1_ImportInventoryRequest__Output } from '../../pyrelo/v1/ImportInventoryRequest.js';
import type { InstallRequest as _pyrelo_v1_InstallRequest, InstallRequest__Output as _pyrelo_v1_InstallRequest__Output } from '../../pyrelo/v1/InstallRequest.js';
import type { InstallResponse as _pyrelo_v1_InstallResponse, InstallResponse__Output as _pyrelo_v1_InstallResponse__Output } from '../../pyrelo/v1/InstallResponse.js';
import type { RecordDeploymentRequest as _pyrelo_v1_RecordDeploymentRequest, RecordDeploymentRequest__Output as _pyrelo_v1_RecordDeploymentRequest__Output } from '../../pyrelo/v1/RecordDeploymentRequest.js';
import type { ServerStatus as _pyrelo_v1_ServerStatus, ServerStatus__Output as _pyrelo_v1_ServerStatus__Output } from '../../pyrelo/v1/ServerStatus.js';
import type { StatusRequest as _pyrelo_v1_StatusRequest, StatusRequest__Output as _pyrelo_v1_StatusRequest__Output } from '../../pyrelo/v1/StatusRequest.js';

export interface ControlClient extends grpc.Client {
  AddBundle(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientWritableStream<_pyrelo_v1_BundleChunk>;
  AddBundle(metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientWritableStream<_pyrelo_v1_BundleChunk>;
  AddBundle(options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientWritableStream<_pyrelo_v1_BundleChunk>;
  AddBundle(callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientWritableStream<_pyrelo_v1_BundleChunk>;
  addBundle(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientWritableStream<_pyrelo_v1_BundleChunk>;
  addBundle(metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientWritableStream<_pyrelo_v1_BundleChunk>;
  addBundle(options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientWritableStream<_pyrelo_v1_BundleChunk>;
  addBundle(callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientWritableStream<_pyrelo_v1_BundleChunk>;
  
  AddHost(argument: _pyrelo_v1_AddHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  AddHost(argument: _pyrelo_v1_AddHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  AddHost(argument: _pyrelo_v1_AddHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  AddHost(argument: _pyrelo_v1_AddHostRequest, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  addHost(argument: _pyrelo_v1_AddHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  addHost(argument: _pyrelo_v1_AddHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  addHost(argument: _pyrelo_v1_AddHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  addHost(argument: _pyrelo_v1_AddHostRequest, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  
  BuildBundle(argument: _pyrelo_v1_BuildRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_pyrelo_v1_BuildEvent__Output>;
  BuildBundle(argument: _pyrelo_v1_BuildRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_pyrelo_v1_BuildEvent__Output>;
  buildBundle(argument: _pyrelo_v1_BuildRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_pyrelo_v1_BuildEvent__Output>;
  buildBundle(argument: _pyrelo_v1_BuildRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_pyrelo_v1_BuildEvent__Output>;
  
  Check(argument: _pyrelo_v1_CheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _pyrelo_v1_CheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _pyrelo_v1_CheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _pyrelo_v1_CheckRequest, callback: grpc.requestCallback<_pyrelo_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _pyrelo_v1_CheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _pyrelo_v1_CheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _pyrelo_v1_CheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _pyrelo_v1_CheckRequest, callback: grpc.requestCallback<_pyrelo_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  
  Compat(argument: _pyrelo_v1_CompatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_CompatResponse__Output>): grpc.ClientUnaryCall;
  Compat(argument: _pyrelo_v1_CompatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_CompatResponse__Output>): grpc.ClientUnaryCall;
  Compat(argument: _pyrelo_v1_CompatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_CompatResponse__Output>): grpc.ClientUnaryCall;
  Compat(argument: _pyrelo_v1_CompatRequest, callback: grpc.requestCallback<_pyrelo_v1_CompatResponse__Output>): grpc.ClientUnaryCall;
  compat(argument: _pyrelo_v1_CompatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_CompatResponse__Output>): grpc.ClientUnaryCall;
  compat(argument: _pyrelo_v1_CompatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_CompatResponse__Output>): grpc.ClientUnaryCall;
  compat(argument: _pyrelo_v1_CompatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_CompatResponse__Output>): grpc.ClientUnaryCall;
  compat(argument: _pyrelo_v1_CompatRequest, callback: grpc.requestCallback<_pyrelo_v1_CompatResponse__Output>): grpc.ClientUnaryCall;
  
  CreateEnrollToken(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_EnrollToken__Output>): grpc.ClientUnaryCall;
  CreateEnrollToken(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_EnrollToken__Output>): grpc.ClientUnaryCall;
  CreateEnrollToken(argument: _pyrelo_v1_HostRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_EnrollToken__Output>): grpc.ClientUnaryCall;
  CreateEnrollToken(argument: _pyrelo_v1_HostRef, callback: grpc.requestCallback<_pyrelo_v1_EnrollToken__Output>): grpc.ClientUnaryCall;
  createEnrollToken(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_EnrollToken__Output>): grpc.ClientUnaryCall;
  createEnrollToken(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_EnrollToken__Output>): grpc.ClientUnaryCall;
  createEnrollToken(argument: _pyrelo_v1_HostRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_EnrollToken__Output>): grpc.ClientUnaryCall;
  createEnrollToken(argument: _pyrelo_v1_HostRef, callback: grpc.requestCallback<_pyrelo_v1_EnrollToken__Output>): grpc.ClientUnaryCall;
  
  DistroBundles(argument: _pyrelo_v1_DistroRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_DistroResponse__Output>): grpc.ClientUnaryCall;
  DistroBundles(argument: _pyrelo_v1_DistroRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_DistroResponse__Output>): grpc.ClientUnaryCall;
  DistroBundles(argument: _pyrelo_v1_DistroRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_DistroResponse__Output>): grpc.ClientUnaryCall;
  DistroBundles(argument: _pyrelo_v1_DistroRequest, callback: grpc.requestCallback<_pyrelo_v1_DistroResponse__Output>): grpc.ClientUnaryCall;
  distroBundles(argument: _pyrelo_v1_DistroRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_DistroResponse__Output>): grpc.ClientUnaryCall;
  distroBundles(argument: _pyrelo_v1_DistroRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_DistroResponse__Output>): grpc.ClientUnaryCall;
  distroBundles(argument: _pyrelo_v1_DistroRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_DistroResponse__Output>): grpc.ClientUnaryCall;
  distroBundles(argument: _pyrelo_v1_DistroRequest, callback: grpc.requestCallback<_pyrelo_v1_DistroResponse__Output>): grpc.ClientUnaryCall;
  
  Fleet(argument: _pyrelo_v1_FleetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_FleetResponse__Output>): grpc.ClientUnaryCall;
  Fleet(argument: _pyrelo_v1_FleetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_FleetResponse__Output>): grpc.ClientUnaryCall;
  Fleet(argument: _pyrelo_v1_FleetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_FleetResponse__Output>): grpc.ClientUnaryCall;
  Fleet(argument: _pyrelo_v1_FleetRequest, callback: grpc.requestCallback<_pyrelo_v1_FleetResponse__Output>): grpc.ClientUnaryCall;
  fleet(argument: _pyrelo_v1_FleetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_FleetResponse__Output>): grpc.ClientUnaryCall;
  fleet(argument: _pyrelo_v1_FleetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_FleetResponse__Output>): grpc.ClientUnaryCall;
  fleet(argument: _pyrelo_v1_FleetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_FleetResponse__Output>): grpc.ClientUnaryCall;
  fleet(argument: _pyrelo_v1_FleetRequest, callback: grpc.requestCallback<_pyrelo_v1_FleetResponse__Output>): grpc.ClientUnaryCall;
  
  ImportInventory(argument: _pyrelo_v1_ImportInventoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  ImportInventory(argument: _pyrelo_v1_ImportInventoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  ImportInventory(argument: _pyrelo_v1_ImportInventoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  ImportInventory(argument: _pyrelo_v1_ImportInventoryRequest, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  importInventory(argument: _pyrelo_v1_ImportInventoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  importInventory(argument: _pyrelo_v1_ImportInventoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  importInventory(argument: _pyrelo_v1_ImportInventoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  importInventory(argument: _pyrelo_v1_ImportInventoryRequest, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  
  Install(argument: _pyrelo_v1_InstallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_InstallResponse__Output>): grpc.ClientUnaryCall;
  Install(argument: _pyrelo_v1_InstallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_InstallResponse__Output>): grpc.ClientUnaryCall;
  Install(argument: _pyrelo_v1_InstallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_InstallResponse__Output>): grpc.ClientUnaryCall;
  Install(argument: _pyrelo_v1_InstallRequest, callback: grpc.requestCallback<_pyrelo_v1_InstallResponse__Output>): grpc.ClientUnaryCall;
  install(argument: _pyrelo_v1_InstallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_InstallResponse__Output>): grpc.ClientUnaryCall;
  install(argument: _pyrelo_v1_InstallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_InstallResponse__Output>): grpc.ClientUnaryCall;
  install(argument: _pyrelo_v1_InstallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_InstallResponse__Output>): grpc.ClientUnaryCall;
  install(argument: _pyrelo_v1_InstallRequest, callback: grpc.requestCallback<_pyrelo_v1_InstallResponse__Output>): grpc.ClientUnaryCall;
  
  ListBundles(argument: _pyrelo_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleList__Output>): grpc.ClientUnaryCall;
  ListBundles(argument: _pyrelo_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_BundleList__Output>): grpc.ClientUnaryCall;
  ListBundles(argument: _pyrelo_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleList__Output>): grpc.ClientUnaryCall;
  ListBundles(argument: _pyrelo_v1_Empty, callback: grpc.requestCallback<_pyrelo_v1_BundleList__Output>): grpc.ClientUnaryCall;
  listBundles(argument: _pyrelo_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleList__Output>): grpc.ClientUnaryCall;
  listBundles(argument: _pyrelo_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_BundleList__Output>): grpc.ClientUnaryCall;
  listBundles(argument: _pyrelo_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleList__Output>): grpc.ClientUnaryCall;
  listBundles(argument: _pyrelo_v1_Empty, callback: grpc.requestCallback<_pyrelo_v1_BundleList__Output>): grpc.ClientUnaryCall;
  
  ListDeployments(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_DeploymentList__Output>): grpc.ClientUnaryCall;
  ListDeployments(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_DeploymentList__Output>): grpc.ClientUnaryCall;
  ListDeployments(argument: _pyrelo_v1_HostRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_DeploymentList__Output>): grpc.ClientUnaryCall;
  ListDeployments(argument: _pyrelo_v1_HostRef, callback: grpc.requestCallback<_pyrelo_v1_DeploymentList__Output>): grpc.ClientUnaryCall;
  listDeployments(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_DeploymentList__Output>): grpc.ClientUnaryCall;
  listDeployments(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_DeploymentList__Output>): grpc.ClientUnaryCall;
  listDeployments(argument: _pyrelo_v1_HostRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_DeploymentList__Output>): grpc.ClientUnaryCall;
  listDeployments(argument: _pyrelo_v1_HostRef, callback: grpc.requestCallback<_pyrelo_v1_DeploymentList__Output>): grpc.ClientUnaryCall;
  
  ListHosts(argument: _pyrelo_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostList__Output>): grpc.ClientUnaryCall;
  ListHosts(argument: _pyrelo_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostList__Output>): grpc.ClientUnaryCall;
  ListHosts(argument: _pyrelo_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostList__Output>): grpc.ClientUnaryCall;
  ListHosts(argument: _pyrelo_v1_Empty, callback: grpc.requestCallback<_pyrelo_v1_HostList__Output>): grpc.ClientUnaryCall;
  listHosts(argument: _pyrelo_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostList__Output>): grpc.ClientUnaryCall;
  listHosts(argument: _pyrelo_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostList__Output>): grpc.ClientUnaryCall;
  listHosts(argument: _pyrelo_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostList__Output>): grpc.ClientUnaryCall;
  listHosts(argument: _pyrelo_v1_Empty, callback: grpc.requestCallback<_pyrelo_v1_HostList__Output>): grpc.ClientUnaryCall;
  
  RecordDeployment(argument: _pyrelo_v1_RecordDeploymentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  RecordDeployment(argument: _pyrelo_v1_RecordDeploymentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  RecordDeployment(argument: _pyrelo_v1_RecordDeploymentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  RecordDeployment(argument: _pyrelo_v1_RecordDeploymentRequest, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  recordDeployment(argument: _pyrelo_v1_RecordDeploymentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  recordDeployment(argument: _pyrelo_v1_RecordDeploymentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  recordDeployment(argument: _pyrelo_v1_RecordDeploymentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  recordDeployment(argument: _pyrelo_v1_RecordDeploymentRequest, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  RemoveHost(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  RemoveHost(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  RemoveHost(argument: _pyrelo_v1_HostRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  RemoveHost(argument: _pyrelo_v1_HostRef, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  removeHost(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  removeHost(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  removeHost(argument: _pyrelo_v1_HostRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  removeHost(argument: _pyrelo_v1_HostRef, callback: grpc.requestCallback<_pyrelo_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  SetHostAccess(argument: _pyrelo_v1_AddHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  SetHostAccess(argument: _pyrelo_v1_AddHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  SetHostAccess(argument: _pyrelo_v1_AddHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  SetHostAccess(argument: _pyrelo_v1_AddHostRequest, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  setHostAccess(argument: _pyrelo_v1_AddHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  setHostAccess(argument: _pyrelo_v1_AddHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  setHostAccess(argument: _pyrelo_v1_AddHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  setHostAccess(argument: _pyrelo_v1_AddHostRequest, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  
  ShowBundle(argument: _pyrelo_v1_BundleRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientUnaryCall;
  ShowBundle(argument: _pyrelo_v1_BundleRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientUnaryCall;
  ShowBundle(argument: _pyrelo_v1_BundleRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientUnaryCall;
  ShowBundle(argument: _pyrelo_v1_BundleRef, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientUnaryCall;
  showBundle(argument: _pyrelo_v1_BundleRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientUnaryCall;
  showBundle(argument: _pyrelo_v1_BundleRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientUnaryCall;
  showBundle(argument: _pyrelo_v1_BundleRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientUnaryCall;
  showBundle(argument: _pyrelo_v1_BundleRef, callback: grpc.requestCallback<_pyrelo_v1_BundleInfo__Output>): grpc.ClientUnaryCall;
  
  ShowHost(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  ShowHost(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  ShowHost(argument: _pyrelo_v1_HostRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  ShowHost(argument: _pyrelo_v1_HostRef, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  showHost(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  showHost(argument: _pyrelo_v1_HostRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  showHost(argument: _pyrelo_v1_HostRef, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  showHost(argument: _pyrelo_v1_HostRef, callback: grpc.requestCallback<_pyrelo_v1_HostInfo__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _pyrelo_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_ServerStatus__Output>): grpc.ClientUnaryCall;
  Status(argument: _pyrelo_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_ServerStatus__Output>): grpc.ClientUnaryCall;
  Status(argument: _pyrelo_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_ServerStatus__Output>): grpc.ClientUnaryCall;
  Status(argument: _pyrelo_v1_StatusRequest, callback: grpc.requestCallback<_pyrelo_v1_ServerStatus__Output>): grpc.ClientUnaryCall;
  status(argument: _pyrelo_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_ServerStatus__Output>): grpc.ClientUnaryCall;
  status(argument: _pyrelo_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_ServerStatus__Output>): grpc.ClientUnaryCall;
  status(argument: _pyrelo_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_ServerStatus__Output>): grpc.ClientUnaryCall;
  status(argument: _pyrelo_v1_StatusRequest, callback: grpc.requestCallback<_pyrelo_v1_ServerStatus__Output>): grpc.ClientUnaryCall;
  
}

export interface ControlHandlers extends grpc.UntypedServiceImplementation {
  AddBundle: grpc.handleClientStreamingCall<_pyrelo_v1_BundleChunk__Output, _pyrelo_v1_BundleInfo>;
  
  AddHost: grpc.handleUnaryCall<_pyrelo_v1_AddHostRequest__Output, _pyrelo_v1_HostInfo>;
  
  BuildBundle: grpc.handleServerStreamingCall<_pyrelo_v1_BuildRequest__Output, _pyrelo_v1_BuildEvent>;
  
  Check: grpc.handleUnaryCall<_pyrelo_v1_CheckRequest__Output, _pyrelo_v1_CheckResponse>;
  
  Compat: grpc.handleUnaryCall<_pyrelo_v1_CompatRequest__Output, _pyrelo_v1_CompatResponse>;
  
  CreateEnrollToken: grpc.handleUnaryCall<_pyrelo_v1_HostRef__Output, _pyrelo_v1_EnrollToken>;
  
  DistroBundles: grpc.handleUnaryCall<_pyrelo_v1_DistroRequest__Output, _pyrelo_v1_DistroResponse>;
  
  Fleet: grpc.handleUnaryCall<_pyrelo_v1_FleetRequest__Output, _pyrelo_v1_FleetResponse>;
  
  ImportInventory: grpc.handleUnaryCall<_pyrelo_v1_ImportInventoryRequest__Output, _pyrelo_v1_HostInfo>;
  
  Install: grpc.handleUnaryCall<_pyrelo_v1_InstallRequest__Output, _pyrelo_v1_InstallResponse>;
  
  ListBundles: grpc.handleUnaryCall<_pyrelo_v1_Empty__Output, _pyrelo_v1_BundleList>;
  
  ListDeployments: grpc.handleUnaryCall<_pyrelo_v1_HostRef__Output, _pyrelo_v1_DeploymentList>;
  
  ListHosts: grpc.handleUnaryCall<_pyrelo_v1_Empty__Output, _pyrelo_v1_HostList>;
  
  RecordDeployment: grpc.handleUnaryCall<_pyrelo_v1_RecordDeploymentRequest__Output, _pyrelo_v1_Empty>;
  
  RemoveHost: grpc.handleUnaryCall<_pyrelo_v1_HostRef__Output, _pyrelo_v1_Empty>;
  
  SetHostAccess: grpc.handleUnaryCall<_pyrelo_v1_AddHostRequest__Output, _pyrelo_v1_HostInfo>;
  
  ShowBundle: grpc.handleUnaryCall<_pyrelo_v1_BundleRef__Output, _pyrelo_v1_BundleInfo>;
  
  ShowHost: grpc.handleUnaryCall<_pyrelo_v1_HostRef__Output, _pyrelo_v1_HostInfo>;
  
  Status: grpc.handleUnaryCall<_pyrelo_v1_StatusRequest__Output, _pyrelo_v1_ServerStatus>;
  
}

export interface ControlDefinition extends grpc.ServiceDefinition {
  AddBundle: MethodDefinition<_pyrelo_v1_BundleChunk, _pyrelo_v1_BundleInfo, _pyrelo_v1_BundleChunk__Output, _pyrelo_v1_BundleInfo__Output>
  AddHost: MethodDefinition<_pyrelo_v1_AddHostRequest, _pyrelo_v1_HostInfo, _pyrelo_v1_AddHostRequest__Output, _pyrelo_v1_HostInfo__Output>
  BuildBundle: MethodDefinition<_pyrelo_v1_BuildRequest, _pyrelo_v1_BuildEvent, _pyrelo_v1_BuildRequest__Output, _pyrelo_v1_BuildEvent__Output>
  Check: MethodDefinition<_pyrelo_v1_CheckRequest, _pyrelo_v1_CheckResponse, _pyrelo_v1_CheckRequest__Output, _pyrelo_v1_CheckResponse__Output>
  Compat: MethodDefinition<_pyrelo_v1_CompatRequest, _pyrelo_v1_CompatResponse, _pyrelo_v1_CompatRequest__Output, _pyrelo_v1_CompatResponse__Output>
  CreateEnrollToken: MethodDefinition<_pyrelo_v1_HostRef, _pyrelo_v1_EnrollToken, _pyrelo_v1_HostRef__Output, _pyrelo_v1_EnrollToken__Output>
  DistroBundles: MethodDefinition<_pyrelo_v1_DistroRequest, _pyrelo_v1_DistroResponse, _pyrelo_v1_DistroRequest__Output, _pyrelo_v1_DistroResponse__Output>
  Fleet: MethodDefinition<_pyrelo_v1_FleetRequest, _pyrelo_v1_FleetResponse, _pyrelo_v1_FleetRequest__Output, _pyrelo_v1_FleetResponse__Output>
  ImportInventory: MethodDefinition<_pyrelo_v1_ImportInventoryRequest, _pyrelo_v1_HostInfo, _pyrelo_v1_ImportInventoryRequest__Output, _pyrelo_v1_HostInfo__Output>
  Install: MethodDefinition<_pyrelo_v1_InstallRequest, _pyrelo_v1_InstallResponse, _pyrelo_v1_InstallRequest__Output, _pyrelo_v1_InstallResponse__Output>
  ListBundles: MethodDefinition<_pyrelo_v1_Empty, _pyrelo_v1_BundleList, _pyrelo_v1_Empty__Output, _pyrelo_v1_BundleList__Output>
  ListDeployments: MethodDefinition<_pyrelo_v1_HostRef, _pyrelo_v1_DeploymentList, _pyrelo_v1_HostRef__Output, _pyrelo_v1_DeploymentList__Output>
  ListHosts: MethodDefinition<_pyrelo_v1_Empty, _pyrelo_v1_HostList, _pyrelo_v1_Empty__Output, _pyrelo_v1_HostList__Output>
  RecordDeployment: MethodDefinition<_pyrelo_v1_RecordDeploymentRequest, _pyrelo_v1_Empty, _pyrelo_v1_RecordDeploymentRequest__Output, _pyrelo_v1_Empty__Output>
  RemoveHost: MethodDefinition<_pyrelo_v1_HostRef, _pyrelo_v1_Empty, _pyrelo_v1_HostRef__Output, _pyrelo_v1_Empty__Output>
  SetHostAccess: MethodDefinition<_pyrelo_v1_AddHostRequest, _pyrelo_v1_HostInfo, _pyrelo_v1_AddHostRequest__Output, _pyrelo_v1_HostInfo__Output>
  ShowBundle: MethodDefinition<_pyrelo_v1_BundleRef, _pyrelo_v1_BundleInfo, _pyrelo_v1_BundleRef__Output, _pyrelo_v1_BundleInfo__Output>
  ShowHost: MethodDefinition<_pyrelo_v1_HostRef, _pyrelo_v1_HostInfo, _pyrelo_v1_HostRef__Output, _pyrelo_v1_HostInfo__Output>
  Status: MethodDefinition<_pyrelo_v1_StatusRequest, _pyrelo_v1_ServerStatus, _pyrelo_v1_StatusRequest__Output, _pyrelo_v1_ServerStatus__Output>
}

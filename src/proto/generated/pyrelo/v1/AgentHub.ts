// Original file: proto/pyrelo/v1/agent_hub.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _pyrelo_v1_AgentMessage, AgentMessage__Output as _pyrelo_v1_AgentMessage__Output } from '../../pyrelo/v1/AgentMessage.js';
import type { BundleChunk as _pyrelo_v1_BundleChunk, BundleChunk__Output as _pyrelo_v1_BundleChunk__Output } from '../../pyrelo/v1/BundleChunk.js';
import type { FetchRequest as _pyrelo_v1_FetchRequest, FetchRequest__Output as _pyrelo_v1_FetchRequest__Output } from '../../pyrelo/v1/FetchRequest.js';
import type { ServerMessage as _pyrelo_v1_ServerMessage, ServerMessage__Output as _pyrelo_v1_ServerMessage__Output } from '../../pyrelo/v1/ServerMessage.js';

export interface AgentHubClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_pyrelo_v1_AgentMessage, _pyrelo_v1_ServerMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_pyrelo_v1_AgentMessage, _pyrelo_v1_ServerMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_pyrelo_v1_AgentMessage, _pyrelo_v1_ServerMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_pyrelo_v1_AgentMessage, _pyrelo_v1_ServerMessage__Output>;
  
  FetchBundle(argument: _pyrelo_v1_FetchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_pyrelo_v1_BundleChunk__Output>;
  FetchBundle(argument: _pyrelo_v1_FetchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_pyrelo_v1_BundleChunk__Output>;
  fetchBundle(argument: _pyrelo_v1_FetchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_pyrelo_v1_BundleChunk__Output>;
  fetchBundle(argument: _pyrelo_v1_FetchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_pyrelo_v1_BundleChunk__Output>;
  
}

export interface AgentHubHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_pyrelo_v1_AgentMessage__Output, _pyrelo_v1_ServerMessage>;
  
  FetchBundle: grpc.handleServerStreamingCall<_pyrelo_v1_FetchRequest__Output, _pyrelo_v1_BundleChunk>;
  
}

export interface AgentHubDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_pyrelo_v1_AgentMessage, _pyrelo_v1_ServerMessage, _pyrelo_v1_AgentMessage__Output, _pyrelo_v1_ServerMessage__Output>
  FetchBundle: MethodDefinition<_pyrelo_v1_FetchRequest, _pyrelo_v1_BundleChunk, _pyrelo_v1_FetchRequest__Output, _pyrelo_v1_BundleChunk__Output>
}

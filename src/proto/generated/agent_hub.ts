import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _pyrelo_v1_Ack, Ack__Output as _pyrelo_v1_Ack__Output } from './pyrelo/v1/Ack.js';
import type { AgentHubClient as _pyrelo_v1_AgentHubClient, AgentHubDefinition as _pyrelo_v1_AgentHubDefinition } from './pyrelo/v1/AgentHub.js';
import type { AgentMessage as _pyrelo_v1_AgentMessage, AgentMessage__Output as _pyrelo_v1_AgentMessage__Output } from './pyrelo/v1/AgentMessage.js';
import type { BundleChunk as _pyrelo_v1_BundleChunk, BundleChunk__Output as _pyrelo_v1_BundleChunk__Output } from './pyrelo/v1/BundleChunk.js';
import type { BundleInfo as _pyrelo_v1_BundleInfo, BundleInfo__Output as _pyrelo_v1_BundleInfo__Output } from './pyrelo/v1/BundleInfo.js';
import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from './pyrelo/v1/CheckResult.js';
import type { Empty as _pyrelo_v1_Empty, Empty__Output as _pyrelo_v1_Empty__Output } from './pyrelo/v1/Empty.js';
import type { EnrollRequest as _pyrelo_v1_EnrollRequest, EnrollRequest__Output as _pyrelo_v1_EnrollRequest__Output } from './pyrelo/v1/EnrollRequest.js';
import type { EnrollResponse as _pyrelo_v1_EnrollResponse, EnrollResponse__Output as _pyrelo_v1_EnrollResponse__Output } from './pyrelo/v1/EnrollResponse.js';
import type { EnrollmentClient as _pyrelo_v1_EnrollmentClient, EnrollmentDefinition as _pyrelo_v1_EnrollmentDefinition } from './pyrelo/v1/Enrollment.js';
import type { FetchRequest as _pyrelo_v1_FetchRequest, FetchRequest__Output as _pyrelo_v1_FetchRequest__Output } from './pyrelo/v1/FetchRequest.js';
import type { Heartbeat as _pyrelo_v1_Heartbeat, Heartbeat__Output as _pyrelo_v1_Heartbeat__Output } from './pyrelo/v1/Heartbeat.js';
import type { HeartbeatAck as _pyrelo_v1_HeartbeatAck, HeartbeatAck__Output as _pyrelo_v1_HeartbeatAck__Output } from './pyrelo/v1/HeartbeatAck.js';
import type { Hello as _pyrelo_v1_Hello, Hello__Output as _pyrelo_v1_Hello__Output } from './pyrelo/v1/Hello.js';
import type { HostAccess as _pyrelo_v1_HostAccess, HostAccess__Output as _pyrelo_v1_HostAccess__Output } from './pyrelo/v1/HostAccess.js';
import type { HostInfo as _pyrelo_v1_HostInfo, HostInfo__Output as _pyrelo_v1_HostInfo__Output } from './pyrelo/v1/HostInfo.js';
import type { Order as _pyrelo_v1_Order, Order__Output as _pyrelo_v1_Order__Output } from './pyrelo/v1/Order.js';
import type { Problem as _pyrelo_v1_Problem, Problem__Output as _pyrelo_v1_Problem__Output } from './pyrelo/v1/Problem.js';
import type { Report as _pyrelo_v1_Report, Report__Output as _pyrelo_v1_Report__Output } from './pyrelo/v1/Report.js';
import type { ServerMessage as _pyrelo_v1_ServerMessage, ServerMessage__Output as _pyrelo_v1_ServerMessage__Output } from './pyrelo/v1/ServerMessage.js';
import type { Welcome as _pyrelo_v1_Welcome, Welcome__Output as _pyrelo_v1_Welcome__Output } from './pyrelo/v1/Welcome.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  pyrelo: {
    v1: {
      Ack: MessageTypeDefinition<_pyrelo_v1_Ack, _pyrelo_v1_Ack__Output>
      AgentHub: SubtypeConstructor<typeof grpc.Client, _pyrelo_v1_AgentHubClient> & { service: _pyrelo_v1_AgentHubDefinition }
      AgentMessage: MessageTypeDefinition<_pyrelo_v1_AgentMessage, _pyrelo_v1_AgentMessage__Output>
      BundleChunk: MessageTypeDefinition<_pyrelo_v1_BundleChunk, _pyrelo_v1_BundleChunk__Output>
      BundleInfo: MessageTypeDefinition<_pyrelo_v1_BundleInfo, _pyrelo_v1_BundleInfo__Output>
      CheckResult: MessageTypeDefinition<_pyrelo_v1_CheckResult, _pyrelo_v1_CheckResult__Output>
      Empty: MessageTypeDefinition<_pyrelo_v1_Empty, _pyrelo_v1_Empty__Output>
      EnrollRequest: MessageTypeDefinition<_pyrelo_v1_EnrollRequest, _pyrelo_v1_EnrollRequest__Output>
      EnrollResponse: MessageTypeDefinition<_pyrelo_v1_EnrollResponse, _pyrelo_v1_EnrollResponse__Output>
      Enrollment: SubtypeConstructor<typeof grpc.Client, _pyrelo_v1_EnrollmentClient> & { service: _pyrelo_v1_EnrollmentDefinition }
      FetchRequest: MessageTypeDefinition<_pyrelo_v1_FetchRequest, _pyrelo_v1_FetchRequest__Output>
      Heartbeat: MessageTypeDefinition<_pyrelo_v1_Heartbeat, _pyrelo_v1_Heartbeat__Output>
      HeartbeatAck: MessageTypeDefinition<_pyrelo_v1_HeartbeatAck, _pyrelo_v1_HeartbeatAck__Output>
      Hello: MessageTypeDefinition<_pyrelo_v1_Hello, _pyrelo_v1_Hello__Output>
      HostAccess: MessageTypeDefinition<_pyrelo_v1_HostAccess, _pyrelo_v1_HostAccess__Output>
      HostInfo: MessageTypeDefinition<_pyrelo_v1_HostInfo, _pyrelo_v1_HostInfo__Output>
      Order: MessageTypeDefinition<_pyrelo_v1_Order, _pyrelo_v1_Order__Output>
      Problem: MessageTypeDefinition<_pyrelo_v1_Problem, _pyrelo_v1_Problem__Output>
      Report: MessageTypeDefinition<_pyrelo_v1_Report, _pyrelo_v1_Report__Output>
      ServerMessage: MessageTypeDefinition<_pyrelo_v1_ServerMessage, _pyrelo_v1_ServerMessage__Output>
      Welcome: MessageTypeDefinition<_pyrelo_v1_Welcome, _pyrelo_v1_Welcome__Output>
    }
  }
}


// Original file: proto/pyrelo/v1/agent_hub.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { EnrollRequest as _pyrelo_v1_EnrollRequest, EnrollRequest__Output as _pyrelo_v1_EnrollRequest__Output } from '../../pyrelo/v1/EnrollRequest.js';
import type { EnrollResponse as _pyrelo_v1_EnrollResponse, EnrollResponse__Output as _pyrelo_v1_EnrollResponse__Output } from '../../pyrelo/v1/EnrollResponse.js';

export interface EnrollmentClient extends grpc.Client {
  Enroll(argument: _pyrelo_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _pyrelo_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _pyrelo_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _pyrelo_v1_EnrollRequest, callback: grpc.requestCallback<_pyrelo_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _pyrelo_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _pyrelo_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_pyrelo_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _pyrelo_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_pyrelo_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _pyrelo_v1_EnrollRequest, callback: grpc.requestCallback<_pyrelo_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface EnrollmentHandlers extends grpc.UntypedServiceImplementation {
  Enroll: grpc.handleUnaryCall<_pyrelo_v1_EnrollRequest__Output, _pyrelo_v1_EnrollResponse>;
  
}

export interface EnrollmentDefinition extends grpc.ServiceDefinition {
  Enroll: MethodDefinition<_pyrelo_v1_EnrollRequest, _pyrelo_v1_EnrollResponse, _pyrelo_v1_EnrollRequest__Output, _pyrelo_v1_EnrollResponse__Output>
}

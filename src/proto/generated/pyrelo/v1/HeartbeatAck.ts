// Original file: proto/pyrelo/v1/agent_hub.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatAck {
  'sequence'?: (number | string | Long);
}

export interface HeartbeatAck__Output {
  'sequence': (number);
}

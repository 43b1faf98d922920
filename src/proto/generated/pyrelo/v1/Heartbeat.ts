// Original file: proto/pyrelo/v1/agent_hub.proto

import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'sequence'?: (number | string | Long);
  'sentAt'?: (string);
}

export interface Heartbeat__Output {
  'sequence': (number);
  'sentAt': (string);
}

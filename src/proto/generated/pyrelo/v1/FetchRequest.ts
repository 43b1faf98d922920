// Original file: proto/pyrelo/v1/agent_hub.proto

import type { Long } from '@grpc/proto-loader';

export interface FetchRequest {
  'digest'?: (string);
  'offset'?: (number | string | Long);
  'chunkSize'?: (number);
}

export interface FetchRequest__Output {
  'digest': (string);
  'offset': (number);
  'chunkSize': (number);
}

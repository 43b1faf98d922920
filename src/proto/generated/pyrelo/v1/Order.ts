// Original file: proto/pyrelo/v1/agent_hub.proto

import type { Long } from '@grpc/proto-loader';

export interface Order {
  'orderId'?: (string);
  'action'?: (string);
  'bundleDigest'?: (string);
  'bundleSize'?: (number | string | Long);
  'bundleName'?: (string);
  'prefix'?: (string);
  'manifestSha256'?: (string);
}

export interface Order__Output {
  'orderId': (string);
  'action': (string);
  'bundleDigest': (string);
  'bundleSize': (number);
  'bundleName': (string);
  'prefix': (string);
  'manifestSha256': (string);
}

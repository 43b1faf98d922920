// Original file: proto/pyrelo/v1/messages.proto

import type { Long } from '@grpc/proto-loader';

export interface BundleChunk {
  'digest'?: (string);
  'offset'?: (number | string | Long);
  'totalSize'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
  'name'?: (string);
}

export interface BundleChunk__Output {
  'digest': (string);
  'offset': (number);
  'totalSize': (number);
  'data': (Buffer);
  'name': (string);
}

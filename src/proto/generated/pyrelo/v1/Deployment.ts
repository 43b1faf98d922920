// Original file: proto/pyrelo/v1/control.proto

import type { Long } from '@grpc/proto-loader';

export interface Deployment {
  'host'?: (string);
  'bundleDigest'?: (string);
  'release'?: (string);
  'prefix'?: (string);
  'status'?: (string);
  'reason'?: (string);
  'bytesSent'?: (number | string | Long);
  'startedAt'?: (string);
  'finishedAt'?: (string);
  'bundleName'?: (string);
}

export interface Deployment__Output {
  'host': (string);
  'bundleDigest': (string);
  'release': (string);
  'prefix': (string);
  'status': (string);
  'reason': (string);
  'bytesSent': (number);
  'startedAt': (string);
  'finishedAt': (string);
  'bundleName': (string);
}

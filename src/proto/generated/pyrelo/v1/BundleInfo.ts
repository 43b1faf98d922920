// Original file: proto/pyrelo/v1/messages.proto

import type { Long } from '@grpc/proto-loader';

export interface BundleInfo {
  'digest'?: (string);
  'name'?: (string);
  'size'?: (number | string | Long);
  'libc'?: (string);
  'glibcFloor'?: (string);
  'kernelFloor'?: (string);
  'elfFiles'?: (number);
  'addedAt'?: (string);
  'pythonVersion'?: (string);
}

export interface BundleInfo__Output {
  'digest': (string);
  'name': (string);
  'size': (number);
  'libc': (string);
  'glibcFloor': (string);
  'kernelFloor': (string);
  'elfFiles': (number);
  'addedAt': (string);
  'pythonVersion': (string);
}

// Original file: proto/pyrelo/v1/control.proto

import type { BundleInfo as _pyrelo_v1_BundleInfo, BundleInfo__Output as _pyrelo_v1_BundleInfo__Output } from '../../pyrelo/v1/BundleInfo.js';

export interface DistroBundle {
  'bundle'?: (_pyrelo_v1_BundleInfo | null);
  'verdict'?: (string);
  'hosts'?: (number);
}

export interface DistroBundle__Output {
  'bundle': (_pyrelo_v1_BundleInfo__Output | null);
  'verdict': (string);
  'hosts': (number);
}

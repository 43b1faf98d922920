// Original file: proto/pyrelo/v1/control.proto

import type { BundleInfo as _pyrelo_v1_BundleInfo, BundleInfo__Output as _pyrelo_v1_BundleInfo__Output } from '../../pyrelo/v1/BundleInfo.js';

export interface BundleList {
  'bundles'?: (_pyrelo_v1_BundleInfo)[];
}

export interface BundleList__Output {
  'bundles': (_pyrelo_v1_BundleInfo__Output)[];
}

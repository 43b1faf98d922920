// Original file: proto/pyrelo/v1/control.proto

import type { BundleInfo as _pyrelo_v1_BundleInfo, BundleInfo__Output as _pyrelo_v1_BundleInfo__Output } from '../../pyrelo/v1/BundleInfo.js';

export interface BuildEvent {
  'line'?: (string);
  'bundle'?: (_pyrelo_v1_BundleInfo | null);
  'body'?: "line"|"bundle";
}

export interface BuildEvent__Output {
  'line'?: (string);
  'bundle'?: (_pyrelo_v1_BundleInfo__Output | null);
  'body'?: "line"|"bundle";
}

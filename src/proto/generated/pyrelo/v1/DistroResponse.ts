// Original file: proto/pyrelo/v1/control.proto

import type { DistroBundle as _pyrelo_v1_DistroBundle, DistroBundle__Output as _pyrelo_v1_DistroBundle__Output } from '../../pyrelo/v1/DistroBundle.js';

export interface DistroResponse {
  'bundles'?: (_pyrelo_v1_DistroBundle)[];
  'basis'?: (string);
  'platform'?: (string);
}

export interface DistroResponse__Output {
  'bundles': (_pyrelo_v1_DistroBundle__Output)[];
  'basis': (string);
  'platform': (string);
}

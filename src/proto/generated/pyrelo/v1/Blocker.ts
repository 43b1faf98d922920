// Original file: proto/pyrelo/v1/control.proto

import type { DistroCount as _pyrelo_v1_DistroCount, DistroCount__Output as _pyrelo_v1_DistroCount__Output } from '../../pyrelo/v1/DistroCount.js';

export interface Blocker {
  'requirement'?: (string);
  'kind'?: (string);
  'hosts'?: (number);
  'distros'?: (_pyrelo_v1_DistroCount)[];
  'exampleHosts'?: (string)[];
}

export interface Blocker__Output {
  'requirement': (string);
  'kind': (string);
  'hosts': (number);
  'distros': (_pyrelo_v1_DistroCount__Output)[];
  'exampleHosts': (string)[];
}

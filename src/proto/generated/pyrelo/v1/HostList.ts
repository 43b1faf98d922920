// Original file: proto/pyrelo/v1/control.proto

import type { HostInfo as _pyrelo_v1_HostInfo, HostInfo__Output as _pyrelo_v1_HostInfo__Output } from '../../pyrelo/v1/HostInfo.js';

export interface HostList {
  'hosts'?: (_pyrelo_v1_HostInfo)[];
}

export interface HostList__Output {
  'hosts': (_pyrelo_v1_HostInfo__Output)[];
}

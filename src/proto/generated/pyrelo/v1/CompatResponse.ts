// Original file: proto/pyrelo/v1/control.proto

import type { BundleInfo as _pyrelo_v1_BundleInfo, BundleInfo__Output as _pyrelo_v1_BundleInfo__Output } from '../../pyrelo/v1/BundleInfo.js';
import type { DistroVerdict as _pyrelo_v1_DistroVerdict, DistroVerdict__Output as _pyrelo_v1_DistroVerdict__Output } from '../../pyrelo/v1/DistroVerdict.js';
import type { HostVerdict as _pyrelo_v1_HostVerdict, HostVerdict__Output as _pyrelo_v1_HostVerdict__Output } from '../../pyrelo/v1/HostVerdict.js';
import type { PlatformVerdict as _pyrelo_v1_PlatformVerdict, PlatformVerdict__Output as _pyrelo_v1_PlatformVerdict__Output } from '../../pyrelo/v1/PlatformVerdict.js';
import type { Blocker as _pyrelo_v1_Blocker, Blocker__Output as _pyrelo_v1_Blocker__Output } from '../../pyrelo/v1/Blocker.js';

export interface CompatResponse {
  'bundle'?: (_pyrelo_v1_BundleInfo | null);
  'distros'?: (_pyrelo_v1_DistroVerdict)[];
  'hosts'?: (_pyrelo_v1_HostVerdict)[];
  'others'?: (_pyrelo_v1_BundleInfo)[];
  'platforms'?: (_pyrelo_v1_PlatformVerdict)[];
  'hostsRunning'?: (number);
  'hostsJudged'?: (number);
  'blockers'?: (_pyrelo_v1_Blocker)[];
}

export interface CompatResponse__Output {
  'bundle': (_pyrelo_v1_BundleInfo__Output | null);
  'distros': (_pyrelo_v1_DistroVerdict__Output)[];
  'hosts': (_pyrelo_v1_HostVerdict__Output)[];
  'others': (_pyrelo_v1_BundleInfo__Output)[];
  'platforms': (_pyrelo_v1_PlatformVerdict__Output)[];
  'hostsRunning': (number);
  'hostsJudged': (number);
  'blockers': (_pyrelo_v1_Blocker__Output)[];
}

// Original file: proto/pyrelo/v1/control.proto

import type { HostAccess as _pyrelo_v1_HostAccess, HostAccess__Output as _pyrelo_v1_HostAccess__Output } from '../../pyrelo/v1/HostAccess.js';

export interface AddHostRequest {
  'name'?: (string);
  'access'?: (_pyrelo_v1_HostAccess | null);
}

export interface AddHostRequest__Output {
  'name': (string);
  'access': (_pyrelo_v1_HostAccess__Output | null);
}

// Original file: proto/pyrelo/v1/control.proto

import type { HostInfo as _pyrelo_v1_HostInfo, HostInfo__Output as _pyrelo_v1_HostInfo__Output } from '../../pyrelo/v1/HostInfo.js';
import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from '../../pyrelo/v1/CheckResult.js';

export interface HostVerdict {
  'host'?: (_pyrelo_v1_HostInfo | null);
  'verdict'?: (string);
  'result'?: (_pyrelo_v1_CheckResult | null);
  'predictionAgrees'?: (boolean);
}

export interface HostVerdict__Output {
  'host': (_pyrelo_v1_HostInfo__Output | null);
  'verdict': (string);
  'result': (_pyrelo_v1_CheckResult__Output | null);
  'predictionAgrees': (boolean);
}

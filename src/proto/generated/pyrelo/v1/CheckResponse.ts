// Original file: proto/pyrelo/v1/control.proto

import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from '../../pyrelo/v1/CheckResult.js';

export interface CheckResponse {
  'predicted'?: (_pyrelo_v1_CheckResult | null);
  'verified'?: (_pyrelo_v1_CheckResult | null);
  'note'?: (string);
}

export interface CheckResponse__Output {
  'predicted': (_pyrelo_v1_CheckResult__Output | null);
  'verified': (_pyrelo_v1_CheckResult__Output | null);
  'note': (string);
}

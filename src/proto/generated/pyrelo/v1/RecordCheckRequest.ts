// Original file: proto/pyrelo/v1/control.proto

import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from '../../pyrelo/v1/CheckResult.js';

export interface RecordCheckRequest {
  'host'?: (string);
  'result'?: (_pyrelo_v1_CheckResult | null);
}

export interface RecordCheckRequest__Output {
  'host': (string);
  'result': (_pyrelo_v1_CheckResult__Output | null);
}

// Original file: proto/pyrelo/v1/control.proto

import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from '../../pyrelo/v1/CheckResult.js';

export interface PlatformVerdict {
  'platform'?: (string);
  'title'?: (string);
  'basis'?: (string);
  'verdict'?: (string);
  'result'?: (_pyrelo_v1_CheckResult | null);
  'uncertain'?: (string)[];
}

export interface PlatformVerdict__Output {
  'platform': (string);
  'title': (string);
  'basis': (string);
  'verdict': (string);
  'result': (_pyrelo_v1_CheckResult__Output | null);
  'uncertain': (string)[];
}

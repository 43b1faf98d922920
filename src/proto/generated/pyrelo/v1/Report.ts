// Original file: proto/pyrelo/v1/agent_hub.proto

import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from '../../pyrelo/v1/CheckResult.js';

export interface Report {
  'reportId'?: (string);
  'orderId'?: (string);
  'result'?: (_pyrelo_v1_CheckResult | null);
  'error'?: (string);
}

export interface Report__Output {
  'reportId': (string);
  'orderId': (string);
  'result': (_pyrelo_v1_CheckResult__Output | null);
  'error': (string);
}

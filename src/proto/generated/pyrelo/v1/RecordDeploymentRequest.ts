// Original file: proto/pyrelo/v1/control.proto

import type { Deployment as _pyrelo_v1_Deployment, Deployment__Output as _pyrelo_v1_Deployment__Output } from '../../pyrelo/v1/Deployment.js';
import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from '../../pyrelo/v1/CheckResult.js';

export interface RecordDeploymentRequest {
  'deployment'?: (_pyrelo_v1_Deployment | null);
  'verified'?: (_pyrelo_v1_CheckResult | null);
}

export interface RecordDeploymentRequest__Output {
  'deployment': (_pyrelo_v1_Deployment__Output | null);
  'verified': (_pyrelo_v1_CheckResult__Output | null);
}

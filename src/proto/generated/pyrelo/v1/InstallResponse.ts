// Original file: proto/pyrelo/v1/control.proto

import type { CheckResult as _pyrelo_v1_CheckResult, CheckResult__Output as _pyrelo_v1_CheckResult__Output } from '../../pyrelo/v1/CheckResult.js';
import type { Deployment as _pyrelo_v1_Deployment, Deployment__Output as _pyrelo_v1_Deployment__Output } from '../../pyrelo/v1/Deployment.js';

export interface InstallResponse {
  'predicted'?: (_pyrelo_v1_CheckResult | null);
  'verified'?: (_pyrelo_v1_CheckResult | null);
  'deployment'?: (_pyrelo_v1_Deployment | null);
}

export interface InstallResponse__Output {
  'predicted': (_pyrelo_v1_CheckResult__Output | null);
  'verified': (_pyrelo_v1_CheckResult__Output | null);
  'deployment': (_pyrelo_v1_Deployment__Output | null);
}

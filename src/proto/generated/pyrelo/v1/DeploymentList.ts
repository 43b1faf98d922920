// Original file: proto/pyrelo/v1/control.proto

import type { Deployment as _pyrelo_v1_Deployment, Deployment__Output as _pyrelo_v1_Deployment__Output } from '../../pyrelo/v1/Deployment.js';

export interface DeploymentList {
  'deployments'?: (_pyrelo_v1_Deployment)[];
}

export interface DeploymentList__Output {
  'deployments': (_pyrelo_v1_Deployment__Output)[];
}

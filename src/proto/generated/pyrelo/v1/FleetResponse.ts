// Original file: proto/pyrelo/v1/control.proto

import type { FleetValue as _pyrelo_v1_FleetValue, FleetValue__Output as _pyrelo_v1_FleetValue__Output } from '../../pyrelo/v1/FleetValue.js';
import type { StaleHost as _pyrelo_v1_StaleHost, StaleHost__Output as _pyrelo_v1_StaleHost__Output } from '../../pyrelo/v1/StaleHost.js';

export interface FleetResponse {
  'hosts'?: (number);
  'withInventory'?: (number);
  'distros'?: (_pyrelo_v1_FleetValue)[];
  'libcs'?: (_pyrelo_v1_FleetValue)[];
  'kernels'?: (_pyrelo_v1_FleetValue)[];
  'architectures'?: (_pyrelo_v1_FleetValue)[];
  'isaLevels'?: (_pyrelo_v1_FleetValue)[];
  'pageSizes'?: (_pyrelo_v1_FleetValue)[];
  'staleAfterDays'?: (number);
  'staleCount'?: (number);
  'stale'?: (_pyrelo_v1_StaleHost)[];
  'withoutInventory'?: (string)[];
  'now'?: (string);
}

export interface FleetResponse__Output {
  'hosts': (number);
  'withInventory': (number);
  'distros': (_pyrelo_v1_FleetValue__Output)[];
  'libcs': (_pyrelo_v1_FleetValue__Output)[];
  'kernels': (_pyrelo_v1_FleetValue__Output)[];
  'architectures': (_pyrelo_v1_FleetValue__Output)[];
  'isaLevels': (_pyrelo_v1_FleetValue__Output)[];
  'pageSizes': (_pyrelo_v1_FleetValue__Output)[];
  'staleAfterDays': (number);
  'staleCount': (number);
  'stale': (_pyrelo_v1_StaleHost__Output)[];
  'withoutInventory': (string)[];
  'now': (string);
}

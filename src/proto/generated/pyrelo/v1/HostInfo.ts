// Original file: proto/pyrelo/v1/messages.proto

import type { HostAccess as _pyrelo_v1_HostAccess, HostAccess__Output as _pyrelo_v1_HostAccess__Output } from '../../pyrelo/v1/HostAccess.js';

export interface HostInfo {
  'name'?: (string);
  'distroId'?: (string);
  'distroVersion'?: (string);
  'arch'?: (string);
  'kernel'?: (string);
  'libcKind'?: (string);
  'libcVersion'?: (string);
  'lastSeen'?: (string);
  'inventoryVersion'?: (number);
  'inventorySha256'?: (string);
  'source'?: (string);
  'connected'?: (boolean);
  'access'?: (_pyrelo_v1_HostAccess | null);
  'agentVersion'?: (string);
}

export interface HostInfo__Output {
  'name': (string);
  'distroId': (string);
  'distroVersion': (string);
  'arch': (string);
  'kernel': (string);
  'libcKind': (string);
  'libcVersion': (string);
  'lastSeen': (string);
  'inventoryVersion': (number);
  'inventorySha256': (string);
  'source': (string);
  'connected': (boolean);
  'access': (_pyrelo_v1_HostAccess__Output | null);
  'agentVersion': (string);
}

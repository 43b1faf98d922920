// Original file: proto/pyrelo/v1/control.proto

import type { Long } from '@grpc/proto-loader';

export interface ServerStatus {
  'rssBytes'?: (number | string | Long);
  'heapUsedBytes'?: (number | string | Long);
  'agentsConnected'?: (number);
  'uptimeSeconds'?: (number | string);
  'eventLoopSince'?: (string);
  'eventLoopResolutionMs'?: (number | string);
  'eventLoopMaxMs'?: (number | string);
  'eventLoopP50Ms'?: (number | string);
  'eventLoopP99Ms'?: (number | string);
  'eventLoopSlowWindows'?: (number);
  'reportsCommitted'?: (number | string | Long);
  'reportCommits'?: (number | string | Long);
  'inventoriesKnownBytes'?: (number | string | Long);
  'inventoriesKnownContent'?: (number | string | Long);
  'inventoriesStored'?: (number | string | Long);
  'inventoriesRefused'?: (number | string | Long);
}

export interface ServerStatus__Output {
  'rssBytes': (number);
  'heapUsedBytes': (number);
  'agentsConnected': (number);
  'uptimeSeconds': (number);
  'eventLoopSince': (string);
  'eventLoopResolutionMs': (number);
  'eventLoopMaxMs': (number);
  'eventLoopP50Ms': (number);
  'eventLoopP99Ms': (number);
  'eventLoopSlowWindows': (number);
  'reportsCommitted': (number);
  'reportCommits': (number);
  'inventoriesKnownBytes': (number);
  'inventoriesKnownContent': (number);
  'inventoriesStored': (number);
  'inventoriesRefused': (number);
}

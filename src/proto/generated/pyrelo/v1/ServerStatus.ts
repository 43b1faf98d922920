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
}

// Original file: proto/pyrelo/v1/agent_hub.proto

import type { Hello as _pyrelo_v1_Hello, Hello__Output as _pyrelo_v1_Hello__Output } from '../../pyrelo/v1/Hello.js';
import type { Heartbeat as _pyrelo_v1_Heartbeat, Heartbeat__Output as _pyrelo_v1_Heartbeat__Output } from '../../pyrelo/v1/Heartbeat.js';
import type { Report as _pyrelo_v1_Report, Report__Output as _pyrelo_v1_Report__Output } from '../../pyrelo/v1/Report.js';

export interface AgentMessage {
  'hello'?: (_pyrelo_v1_Hello | null);
  'heartbeat'?: (_pyrelo_v1_Heartbeat | null);
  'report'?: (_pyrelo_v1_Report | null);
  'body'?: "hello"|"heartbeat"|"report";
}

export interface AgentMessage__Output {
  'hello'?: (_pyrelo_v1_Hello__Output | null);
  'heartbeat'?: (_pyrelo_v1_Heartbeat__Output | null);
  'report'?: (_pyrelo_v1_Report__Output | null);
  'body'?: "hello"|"heartbeat"|"report";
}

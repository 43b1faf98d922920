// Original file: proto/pyrelo/v1/agent_hub.proto

import type { Welcome as _pyrelo_v1_Welcome, Welcome__Output as _pyrelo_v1_Welcome__Output } from '../../pyrelo/v1/Welcome.js';
import type { Ack as _pyrelo_v1_Ack, Ack__Output as _pyrelo_v1_Ack__Output } from '../../pyrelo/v1/Ack.js';
import type { Order as _pyrelo_v1_Order, Order__Output as _pyrelo_v1_Order__Output } from '../../pyrelo/v1/Order.js';
import type { HeartbeatAck as _pyrelo_v1_HeartbeatAck, HeartbeatAck__Output as _pyrelo_v1_HeartbeatAck__Output } from '../../pyrelo/v1/HeartbeatAck.js';

export interface ServerMessage {
  'welcome'?: (_pyrelo_v1_Welcome | null);
  'ack'?: (_pyrelo_v1_Ack | null);
  'order'?: (_pyrelo_v1_Order | null);
  'heartbeatAck'?: (_pyrelo_v1_HeartbeatAck | null);
  'body'?: "welcome"|"ack"|"order"|"heartbeatAck";
}

export interface ServerMessage__Output {
  'welcome'?: (_pyrelo_v1_Welcome__Output | null);
  'ack'?: (_pyrelo_v1_Ack__Output | null);
  'order'?: (_pyrelo_v1_Order__Output | null);
  'heartbeatAck'?: (_pyrelo_v1_HeartbeatAck__Output | null);
  'body'?: "welcome"|"ack"|"order"|"heartbeatAck";
}

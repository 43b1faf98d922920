// Original file: proto/pyrelo/v1/agent_hub.proto


export interface Ack {
  'reportId'?: (string);
}

export interface Ack__Output {
  'reportId': (string);
}

// Original file: proto/pyrelo/v1/agent_hub.proto


export interface Welcome {
  'host'?: (string);
  'needInventory'?: (boolean);
}

export interface Welcome__Output {
  'host': (string);
  'needInventory': (boolean);
}

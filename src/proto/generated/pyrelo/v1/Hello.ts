// Original file: proto/pyrelo/v1/agent_hub.proto


export interface Hello {
  'host'?: (string);
  'agentVersion'?: (string);
  'inventory'?: (Buffer | Uint8Array | string);
  'inventorySha256'?: (string);
  'inventoryCollectedAt'?: (string);
}

export interface Hello__Output {
  'host': (string);
  'agentVersion': (string);
  'inventory': (Buffer);
  'inventorySha256': (string);
  'inventoryCollectedAt': (string);
}

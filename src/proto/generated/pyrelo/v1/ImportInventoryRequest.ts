// Original file: proto/pyrelo/v1/control.proto


export interface ImportInventoryRequest {
  'name'?: (string);
  'inventory'?: (Buffer | Uint8Array | string);
  'takenOnHost'?: (boolean);
}

export interface ImportInventoryRequest__Output {
  'name': (string);
  'inventory': (Buffer);
  'takenOnHost': (boolean);
}

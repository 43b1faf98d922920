// Original file: proto/pyrelo/v1/control.proto


export interface CompatRequest {
  'bundle'?: (string);
}

export interface CompatRequest__Output {
  'bundle': (string);
}

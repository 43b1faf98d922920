// Original file: proto/pyrelo/v1/control.proto


export interface CheckRequest {
  'bundle'?: (string);
  'host'?: (string);
  'verify'?: (boolean);
  'timeoutMs'?: (number);
}

export interface CheckRequest__Output {
  'bundle': (string);
  'host': (string);
  'verify': (boolean);
  'timeoutMs': (number);
}

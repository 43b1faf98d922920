// Original file: proto/pyrelo/v1/control.proto


export interface InstallRequest {
  'bundle'?: (string);
  'host'?: (string);
  'prefix'?: (string);
  'force'?: (boolean);
  'timeoutMs'?: (number);
}

export interface InstallRequest__Output {
  'bundle': (string);
  'host': (string);
  'prefix': (string);
  'force': (boolean);
  'timeoutMs': (number);
}

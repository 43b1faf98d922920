// Original file: proto/pyrelo/v1/control.proto


export interface HostRef {
  'name'?: (string);
}

export interface HostRef__Output {
  'name': (string);
}

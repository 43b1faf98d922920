// Original file: proto/pyrelo/v1/control.proto


export interface StatusRequest {
  'resetEventLoop'?: (boolean);
}

export interface StatusRequest__Output {
  'resetEventLoop': (boolean);
}

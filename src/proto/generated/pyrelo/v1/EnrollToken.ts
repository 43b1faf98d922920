// Original file: proto/pyrelo/v1/control.proto


export interface EnrollToken {
  'token'?: (string);
  'host'?: (string);
  'expiresAt'?: (string);
}

export interface EnrollToken__Output {
  'token': (string);
  'host': (string);
  'expiresAt': (string);
}

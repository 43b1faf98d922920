// Original file: proto/pyrelo/v1/agent_hub.proto


export interface EnrollRequest {
  'token'?: (string);
  'publicKeyPem'?: (string);
}

export interface EnrollRequest__Output {
  'token': (string);
  'publicKeyPem': (string);
}

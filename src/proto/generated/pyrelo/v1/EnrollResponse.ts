// Original file: proto/pyrelo/v1/agent_hub.proto


export interface EnrollResponse {
  'host'?: (string);
  'certificatePem'?: (string);
  'caCertificatePem'?: (string);
}

export interface EnrollResponse__Output {
  'host': (string);
  'certificatePem': (string);
  'caCertificatePem': (string);
}

// Original file: proto/pyrelo/v1/messages.proto


export interface Problem {
  'kind'?: (string);
  'severity'?: (string);
  'message'?: (string);
  'file'?: (string);
  'object'?: (string);
  'requiredBy'?: (string);
  'library'?: (string);
  'version'?: (string);
  'symbol'?: (string);
}

export interface Problem__Output {
  'kind': (string);
  'severity': (string);
  'message': (string);
  'file': (string);
  'object': (string);
  'requiredBy': (string);
  'library': (string);
  'version': (string);
  'symbol': (string);
}

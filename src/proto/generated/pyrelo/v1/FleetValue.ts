// Original file: proto/pyrelo/v1/control.proto


export interface FleetValue {
  'value'?: (string);
  'hosts'?: (number);
  'names'?: (string)[];
}

export interface FleetValue__Output {
  'value': (string);
  'hosts': (number);
  'names': (string)[];
}

// Original file: proto/pyrelo/v1/control.proto


export interface DistroCount {
  'distro'?: (string);
  'hosts'?: (number);
}

export interface DistroCount__Output {
  'distro': (string);
  'hosts': (number);
}

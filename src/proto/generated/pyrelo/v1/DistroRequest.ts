// Original file: proto/pyrelo/v1/control.proto


export interface DistroRequest {
  'distro'?: (string);
}

export interface DistroRequest__Output {
  'distro': (string);
}

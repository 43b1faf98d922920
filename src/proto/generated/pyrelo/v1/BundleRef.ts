// Original file: proto/pyrelo/v1/control.proto


export interface BundleRef {
  'bundle'?: (string);
}

export interface BundleRef__Output {
  'bundle': (string);
}

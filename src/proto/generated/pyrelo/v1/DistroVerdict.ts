// Original file: proto/pyrelo/v1/control.proto


export interface DistroVerdict {
  'distro'?: (string);
  'runs'?: (number);
  'predicted'?: (number);
  'fails'?: (number);
  'unknown'?: (number);
  'reasons'?: (string)[];
}

export interface DistroVerdict__Output {
  'distro': (string);
  'runs': (number);
  'predicted': (number);
  'fails': (number);
  'unknown': (number);
  'reasons': (string)[];
}

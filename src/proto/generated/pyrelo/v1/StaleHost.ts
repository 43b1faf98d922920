// Original file: proto/pyrelo/v1/control.proto


export interface StaleHost {
  'name'?: (string);
  'collectedAt'?: (string);
  'ageDays'?: (number | string);
  'source'?: (string);
}

export interface StaleHost__Output {
  'name': (string);
  'collectedAt': (string);
  'ageDays': (number);
  'source': (string);
}

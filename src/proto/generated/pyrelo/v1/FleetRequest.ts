// Original file: proto/pyrelo/v1/control.proto


export interface FleetRequest {
  'staleAfterDays'?: (number);
}

export interface FleetRequest__Output {
  'staleAfterDays': (number);
}

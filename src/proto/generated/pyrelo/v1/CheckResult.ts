// Original file: proto/pyrelo/v1/messages.proto

import type { Problem as _pyrelo_v1_Problem, Problem__Output as _pyrelo_v1_Problem__Output } from '../../pyrelo/v1/Problem.js';

export interface CheckResult {
  'bundleDigest'?: (string);
  'host'?: (string);
  'kind'?: (string);
  'runs'?: (boolean);
  'loads'?: (boolean);
  'problems'?: (_pyrelo_v1_Problem)[];
  'filesChecked'?: (number);
  'glibcFloor'?: (string);
  'smokeRan'?: (boolean);
  'smokeExit'?: (number);
  'smokeOutput'?: (string);
  'checkedAt'?: (string);
  'inventorySha256'?: (string);
}

export interface CheckResult__Output {
  'bundleDigest': (string);
  'host': (string);
  'kind': (string);
  'runs': (boolean);
  'loads': (boolean);
  'problems': (_pyrelo_v1_Problem__Output)[];
  'filesChecked': (number);
  'glibcFloor': (string);
  'smokeRan': (boolean);
  'smokeExit': (number);
  'smokeOutput': (string);
  'checkedAt': (string);
  'inventorySha256': (string);
}

// Original file: proto/pyrelo/v1/control.proto


export interface BuildRequest {
  'project'?: (string);
  'python'?: (string);
  'pythonSource'?: (string);
  'requirements'?: (string);
  'wheelhouse'?: (string);
  'libc'?: (string);
  'minGlibc'?: (string);
  'entries'?: (string)[];
  'smoke'?: (string);
  'prompt'?: (string);
  'withoutPip'?: (boolean);
  'noSlim'?: (boolean);
  'indexUrl'?: (string);
  'sourceless'?: (boolean);
  'allowMissing'?: (string)[];
  'preloadOnly'?: (string)[];
  'locales'?: (string)[];
}

export interface BuildRequest__Output {
  'project': (string);
  'python': (string);
  'pythonSource': (string);
  'requirements': (string);
  'wheelhouse': (string);
  'libc': (string);
  'minGlibc': (string);
  'entries': (string)[];
  'smoke': (string);
  'prompt': (string);
  'withoutPip': (boolean);
  'noSlim': (boolean);
  'indexUrl': (string);
  'sourceless': (boolean);
  'allowMissing': (string)[];
  'preloadOnly': (string)[];
  'locales': (string)[];
}

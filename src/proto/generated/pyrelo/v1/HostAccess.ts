// Original file: proto/pyrelo/v1/messages.proto


export interface HostAccess {
  'ssh'?: (string);
  'key'?: (string);
  'jump'?: (string);
  'chroot'?: (string);
  'groups'?: (string)[];
  'prefix'?: (string);
}

export interface HostAccess__Output {
  'ssh': (string);
  'key': (string);
  'jump': (string);
  'chroot': (string);
  'groups': (string)[];
  'prefix': (string);
}

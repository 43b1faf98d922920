// From a host's record on the server to a connected transport: SSH (resolved the way OpenSSH
// would, through ~/.ssh/config, with the host key checked against known_hosts) or chroot.

import type { HostInfo } from '../../proto/messages.js';
import { ChrootTransport } from '../../remote/chroot-transport.js';
import type { RemoteTransport } from '../../remote/transport.js';
import { resolveSshTarget, type SshTarget } from '../../remote/ssh/ssh-config.js';
import { SshTransport } from '../../remote/ssh/ssh-transport.js';
import { InputError } from '../../elf/find-elf-files.js';

/** Whether pyrelo itself reaches the host (--ssh or --chroot), rather than only its connected agent. */
export function reachedDirectly(host: HostInfo): boolean {
  return Boolean(host.access?.ssh || host.access?.chroot);
}

export async function sshTargetOf(host: HostInfo): Promise<SshTarget> {
  const access = host.access;
  if (!access?.ssh)
    throw new InputError(`host ${host.name}`, 'is not reached over SSH (pyrelo hosts add NAME --ssh USER@HOST[:PORT])');
  return resolveSshTarget(access.ssh, {
    ...(access.key ? { identityFile: access.key } : {}),
    ...(access.jump ? { jump: access.jump } : {}),
  });
}

export async function connectHost(host: HostInfo): Promise<RemoteTransport> {
  if (host.access?.chroot) return new ChrootTransport(host.access.chroot);
  return SshTransport.connect(await sshTargetOf(host), { hostName: host.name });
}

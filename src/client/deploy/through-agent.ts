// Deploy to a host that pyrelo cannot reach over SSH but whose agent is connected to the server
// (behind NAT, outbound-only firewalls): the server predicts, then orders the agent to install
// the bundle as a release under the prefix; the agent fetches it over its own resumable transfer
// and does exactly what `agent release install` does over SSH (atomic switch, check, smoke run,
// switch back on failure). The server records the result and the deployment.

import * as grpc from '@grpc/grpc-js';
import { isDeploymentStatus, type HostInfo } from '../../proto/messages.js';
import { answered, ControlError, type ControlClient } from '../control-client.js';
import { firstErrors } from '../../release/deploy-policy.js';
import type { HostDeployResult } from './deploy-host.js';
import type { LocalBundle } from './local-bundle.js';
import type { HostProgress } from './progress.js';

export interface ThroughAgentOptions {
  readonly prefix?: string;
  readonly force: boolean;
  readonly progress: HostProgress;
}

export async function deployThroughAgent(
  control: ControlClient,
  host: HostInfo,
  bundle: LocalBundle,
  o: ThroughAgentOptions,
): Promise<HostDeployResult> {
  const prefix = o.prefix ?? (host.access?.prefix || `/opt/pyrelo/${bundle.manifest.name}`);
  o.progress.start('install', `through ${host.name}'s agent (connected to the server) into ${prefix}`);
  const response = await control.call('Install', {
    bundle: bundle.digest,
    host: host.name,
    prefix,
    force: o.force,
    timeoutMs: 0,
  });
  const d = answered(response.deployment, 'deployment');
  const status = d.status;
  if (!isDeploymentStatus(status))
    throw new ControlError(
      grpc.status.INTERNAL,
      `the server recorded the deployment with status ${JSON.stringify(status)}`,
    );
  o.progress.done(
    'install',
    d.status === 'verified'
      ? `current -> ${d.release}; runs (smoke exit ${response.verified?.smokeExit ?? '?'})`
      : `${d.status}: ${d.reason || (response.verified ? firstErrors(response.verified).join('; ') : '')}`,
  );
  return {
    host: host.name,
    status,
    release: d.release,
    prefix,
    reason: d.reason,
    bytesSent: d.bytesSent,
    resumedFrom: null,
    acknowledged: 0,
    transferredFiles: null,
    totalFiles: bundle.manifest.files.length,
    previous: null,
    check: response.verified,
    predicted: response.predicted,
  };
}

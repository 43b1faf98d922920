// Loads proto/pyrelo/v1 with @grpc/proto-loader and hands out the service definitions and typed
// client constructors. The .proto files ship with the package (package.json "files").

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packageFolder } from '../common/package-files.js';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

interface PyreloPackage {
  Control: grpc.ServiceClientConstructor;
  AgentHub: grpc.ServiceClientConstructor;
  Enrollment: grpc.ServiceClientConstructor;
}

let cached: PyreloPackage | null = null;

export function pyreloV1(): PyreloPackage {
  if (cached !== null) return cached;
  const root = packageFolder('proto');
  const definition = protoLoader.loadSync(['pyrelo/v1/control.proto', 'pyrelo/v1/agent_hub.proto'], { ...LOADER_OPTIONS, includeDirs: [root] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { pyrelo: { v1: PyreloPackage } };
  cached = loaded.pyrelo.v1;
  return cached;
}

/** Default message size limit both ways: an inventory of a big host is a few MB gzip'd. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

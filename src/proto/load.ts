// Loads proto/pyrelo/v1 with @grpc/proto-loader and hands out the service definitions and typed
// client constructors. The .proto files ship with the package (package.json "files"). Their types
// are generated (src/proto/generated/, `npm run proto:gen`) with these same loader options, so
// the types describe the objects grpc-js really hands over.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packageFolder } from '../common/package-files.js';
import type { ProtoGrpcType as AgentHubProto } from './generated/agent_hub.js';
import type { ProtoGrpcType as ControlProto } from './generated/control.js';

export const LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
} satisfies protoLoader.Options;

/** The proto files loaded, relative to proto/ (messages.proto comes in through their imports). */
export const PROTO_FILES = ['pyrelo/v1/control.proto', 'pyrelo/v1/agent_hub.proto'];

/** pyrelo.v1 as loaded: the generated types of both files, over one package. */
export type PyreloPackage = ControlProto['pyrelo']['v1'] & AgentHubProto['pyrelo']['v1'];

const SERVICES = ['Control', 'AgentHub', 'Enrollment'] as const;

/** A property of an object or function (a service constructor carries its definition), else undefined. */
function member(value: unknown, name: string): unknown {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** grpc-js types what it loads as an untyped tree: the services are checked to be there. */
function isPyreloPackage(v1: unknown): v1 is PyreloPackage {
  return SERVICES.every(
    (name) => typeof member(v1, name) === 'function' && typeof member(member(v1, name), 'service') === 'object',
  );
}

let cached: PyreloPackage | null = null;

export function pyreloV1(): PyreloPackage {
  if (cached !== null) return cached;
  const root = packageFolder('proto');
  const definition = protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [root] });
  const v1 = member(member(grpc.loadPackageDefinition(definition), 'pyrelo'), 'v1');
  if (!isPyreloPackage(v1))
    throw new Error(`pyrelo: ${root} does not define the pyrelo.v1 services ${SERVICES.join(', ')}`);
  cached = v1;
  return cached;
}

/** Default message size limit both ways: an inventory of a big host is a few MB gzip'd. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

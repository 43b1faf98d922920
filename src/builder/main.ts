#!/usr/bin/env node
// The build as a process of its own, taking the arguments of `pyrelo build`: the server starts it
// (build-process.ts) so that a build's CPU-heavy steps never run on the server's event loop.
import { buildMain } from './build-command.js';

process.exitCode = await buildMain(process.argv.slice(2));

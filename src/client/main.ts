#!/usr/bin/env node
// Entry point of the `pyrelo` executable; everything else lives in cli.ts so tests can call it.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));

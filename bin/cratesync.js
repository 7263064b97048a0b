#!/usr/bin/env node
// Process-wide settings are made here, once, before any run: never by a run.
import { applyMemoryPolicy } from '../dist/src/cli/memory-policy.js';

applyMemoryPolicy();
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv);

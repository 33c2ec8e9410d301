#!/usr/bin/env node
// The `citus-ingest` command: registers tsx's loader in this process and runs the TypeScript entry,
// so stdin, stdout, stderr and the exit code are the command's own (no child process in between).
import './supported-node.mjs';
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

#!/usr/bin/env node
// Entry point of the syncctl CLI: runs the compiled oclif commands in dist/.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });

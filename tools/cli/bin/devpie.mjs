#!/usr/bin/env node
// The `devpie` bin: registers tsx (the TypeScript sources run as they are, like the services) and runs the CLI.
import 'tsx';

const cli = await import('../src/main.ts');
const { run } = cli.run ? cli : cli.default;
process.exitCode = await run(process.argv.slice(2));

// Composes a supergraph from subgraph SDLs with @theguild/federation-composition.
// stdin: {"subgraphs": [{"name", "url", "sdl"}]}; stdout or --out PATH: the supergraph.
// Composition errors go to stderr (one per line) and exit 1.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

const input = JSON.parse(readFileSync(0, 'utf8'));
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : null;

let services;
try {
  services = input.subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) }));
} catch (error) {
  process.stderr.write(`invalid subgraph SDL: ${error.message}\n`);
  process.exit(1);
}

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) {
    const code = error.extensions?.code ? `[${error.extensions.code}] ` : '';
    process.stderr.write(`${code}${error.message}\n`);
  }
  process.exit(1);
}
if (out) {
  // Write then rename: a watching gateway never reads a half-written file.
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, result.supergraphSdl);
  renameSync(tmp, out);
} else {
  process.stdout.write(result.supergraphSdl);
}

// Composes a supergraph from subgraph SDLs with @theguild/federation-composition.
//   node compose.mjs [--out PATH | --json] < {"subgraphs": [{"name", "url", "sdl"}]}
// Prints the supergraph SDL (or writes it to PATH; with --json prints
// {"supergraphSdl", "publicSdl"}, the public SDL being the API clients see); on failure prints one error per line
// on stderr and exits 1. Subgraph SDLs must link federation <= v2.9 (the library rejects later).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

function fail(messages) {
  // One error per line: callers split stderr on newlines.
  for (const message of messages) process.stderr.write(`${String(message).replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

const outIndex = process.argv.indexOf('--out');
const out = outIndex === -1 ? null : process.argv[outIndex + 1];
if (outIndex !== -1 && !out) fail(['--out needs a path']);

let services;
try {
  const { subgraphs } = JSON.parse(readFileSync(0, 'utf8'));
  services = subgraphs.map(({ name, url, sdl }) => {
    try {
      return { name, url, typeDefs: parse(sdl) };
    } catch (error) {
      throw new Error(`[${name}] invalid SDL: ${error.message}`);
    }
  });
} catch (error) {
  fail([error.message]);
}

const result = composeServices(services);
if (result.errors?.length) {
  // The library's messages already name the coordinate and the subgraphs involved.
  fail(result.errors.map((error) => `${error.extensions?.code ? `[${error.extensions.code}] ` : ''}${error.message}`));
}

if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify({ supergraphSdl: result.supergraphSdl, publicSdl: result.publicSdl }));
} else if (out) {
  // Write then rename (same directory, so same filesystem): a watching gateway never reads half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, result.supergraphSdl);
  renameSync(tmp, out);
} else {
  process.stdout.write(result.supergraphSdl);
}

// Composes a supergraph from subgraph SDLs with @theguild/federation-composition.
//   node compose.mjs [--out PATH] < {"subgraphs": [{"name", "url", "sdl"}]}
// Prints the supergraph SDL (or writes it to PATH); on failure prints one error per line on stderr
// and exits 1. Subgraph SDLs must link federation <= v2.9 (the library rejects later).
//   node compose.mjs --serve
// Stays up for many compositions (starting Node and loading the library costs more than composing):
// one request per stdin line, {"subgraphs": [...]}, one answer per stdout line, either
// {"supergraphSdl", "publicSdl"} (the public SDL is the API clients see) or {"errors": [...]}.
// Exits when stdin closes.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

// One message per line: callers split on newlines.
const oneLine = (message) => String(message).replace(/\s*\n\s*/g, ' ');

function composeRequest(request) {
  let services;
  try {
    services = JSON.parse(request).subgraphs.map(({ name, url, sdl }) => {
      try {
        return { name, url, typeDefs: parse(sdl) };
      } catch (error) {
        throw new Error(`[${name}] invalid SDL: ${error.message}`);
      }
    });
  } catch (error) {
    return { errors: [oneLine(error.message)] };
  }
  const result = composeServices(services);
  if (result.errors?.length) {
    // The library's messages already name the coordinate and the subgraphs involved.
    return {
      errors: result.errors.map((error) =>
        oneLine(`${error.extensions?.code ? `[${error.extensions.code}] ` : ''}${error.message}`),
      ),
    };
  }
  return { supergraphSdl: result.supergraphSdl, publicSdl: result.publicSdl };
}

async function serve() {
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    let answer;
    try {
      answer = composeRequest(line);
    } catch (error) {
      answer = { errors: [oneLine(error.stack ?? error)] };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
}

function once() {
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex === -1 ? null : process.argv[outIndex + 1];
  const answer = outIndex !== -1 && !out ? { errors: ['--out needs a path'] } : composeRequest(readFileSync(0, 'utf8'));
  if (answer.errors) {
    for (const message of answer.errors) process.stderr.write(`${message}\n`);
    process.exit(1);
  }
  if (out) {
    // Write then rename (same directory, so same filesystem): a watching gateway never reads half a file.
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, answer.supergraphSdl);
    renameSync(tmp, out);
  } else {
    process.stdout.write(answer.supergraphSdl);
  }
}

if (process.argv.includes('--serve')) await serve();
else once();

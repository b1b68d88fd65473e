// Composes supergraphs from subgraph SDLs with @theguild/federation-composition, one after another:
// one request per stdin line, {"subgraphs": [{"name", "url", "sdl"}]}, one answer per stdout line,
// either {"supergraphSdl", "publicSdl"} (the public SDL is the API clients see) or {"errors": [...]},
// one message per error naming the coordinate and subgraphs. Exits when stdin closes. It stays up
// because starting Node and loading the library costs more than a composition (gateway/composition.py).
// Subgraph SDLs must link federation <= v2.9 (the library rejects later).
import { createInterface } from 'node:readline';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

const oneLine = (message) => String(message).replace(/\s*\n\s*/g, ' ');

function compose(request) {
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
    return {
      errors: result.errors.map((error) =>
        oneLine(`${error.extensions?.code ? `[${error.extensions.code}] ` : ''}${error.message}`),
      ),
    };
  }
  return { supergraphSdl: result.supergraphSdl, publicSdl: result.publicSdl };
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  let answer;
  try {
    answer = compose(line);
  } catch (error) {
    answer = { errors: [oneLine(error.stack ?? error)] };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}

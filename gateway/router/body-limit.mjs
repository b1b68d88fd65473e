// Request bodies above ROUTER_MAX_BODY_BYTES (default 1 MiB) are refused with 413 before any
// parsing: at once when Content-Length says so, else (chunked) as soon as the bytes read pass
// the limit. Yoga's own limit (25 MB) stays underneath; this one is the platform's.
import { GraphQLError } from 'graphql';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(limit) {
  return new GraphQLError(`Request body larger than ${limit} bytes`, {
    extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } },
  });
}

function limited(request, limit, fetchAPI) {
  let read = 0;
  const Transform = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  const body = request.body.pipeThrough(
    new Transform({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limit) controller.error(tooLarge(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method, headers: request.headers, signal: request.signal, body, duplex: 'half',
  });
}

export function useBodyLimit(limit = DEFAULT_MAX_BODY_BYTES) {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared != null && /^\d+$/.test(declared) && Number(declared) > limit) throw tooLarge(limit);
      if (requestParser == null || request.body == null) return;
      setRequestParser((req) => requestParser(limited(req, limit, fetchAPI)));
    },
  };
}

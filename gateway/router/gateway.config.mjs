// Hive Gateway configuration of the Spotify Agent router.
//
// Supergraph source: the CLI argument (`supergraph <path-or-url>`), or env SUPERGRAPH.
// A file is watched and hot-reloaded when rewritten (dev); a URL is polled every
// SUPERGRAPH_POLL_INTERVAL_MS (>= 10 s, production / registry).
import { defineConfig } from '@graphql-hive/gateway';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

const supergraphSource = process.env.SUPERGRAPH;
const isUrl = (value) => typeof value === 'string' && /^https?:\/\//.test(value);

// Headers a subgraph needs from the client on HTTP: credentials, tracing, and the client
// address (per-address rate limits run in the subgraphs).
const FORWARDED = ['authorization', 'traceparent', 'tracestate', 'x-request-id', 'apollographql-client-name', 'apollographql-client-version'];

/** WebSocket clients put `Authorization` in connection_init; the gateway merges those
 * params into context.headers with the client's casing. Normalise to lower case so one
 * interpolation (`{context.headers.authorization}`) serves WS and SSE clients alike. */
const lowerCaseHeaders = {
  onContextBuilding({ context, extendContext }) {
    const headers = context.headers;
    if (headers && typeof headers === 'object') {
      const lowered = {};
      for (const [key, value] of Object.entries(headers)) lowered[key.toLowerCase()] = value;
      extendContext({ headers: lowered });
    }
  },
};

export const gatewayConfig = defineConfig({
  ...(supergraphSource ? { supergraph: supergraphSource } : {}),
  ...(isUrl(supergraphSource)
    ? { pollingInterval: Math.max(10_000, Number(process.env.SUPERGRAPH_POLL_INTERVAL_MS || 10_000)) }
    : {}),
  host: process.env.ROUTER_HOST || '127.0.0.1',
  port: Number(process.env.ROUTER_PORT || 4000),
  transportEntries: {
    '*.http': {
      options: {
        // Strawberry serves graphql-transport-ws, not the gateway's default SSE upstream.
        // Without `location` the WS URL is the subgraph's own URL (path prefix included).
        subscriptions: {
          kind: 'ws',
          options: { connectionParams: { Authorization: '{context.headers.authorization}' } },
        },
        // Never share one upstream response between callers.
        deduplicateInflightRequests: false,
      },
    },
  },
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const headers = {};
      for (const name of FORWARDED) {
        const value = request.headers.get(name);
        if (value) headers[name] = value;
      }
      const forwardedFor = request.headers.get('x-forwarded-for');
      if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
      return headers;
    },
  },
  // Identical anonymous requests may share one execution; authenticated ones never do.
  inboundInflightRequestDeduplication: {
    enabled: (_args, request) => !request.headers.get('authorization'),
  },
  // GraphiQL fully inlined (no CDN): works with no internet.
  graphiql: { title: 'Spotify Agent API', defaultQuery: '{ me { id displayName tenant { name } } }' },
  renderGraphiQL,
  landingPage: false,
  plugins: () => [lowerCaseHeaders],
});

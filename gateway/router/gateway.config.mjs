// Hive Gateway configuration of the Spotify Agent router. Run from this directory:
//   SUPERGRAPH=<path-or-url> node node_modules/@graphql-hive/gateway/dist/bin.js supergraph --host H --port P
//
// Supergraph source: env SUPERGRAPH (the way gateway/router.py starts it).
// - A file is re-read whenever it changes. We watch its directory ourselves because the CLI's own
//   watcher (used when the file is given as the CLI argument) stops for good on the first atomic
//   replace (write temp + rename, what write_supergraph does): it throws on the 'rename' event.
// - An http(s) URL is polled every SUPERGRAPH_POLL_INTERVAL_MS, raised to 10 s if lower (the CLI
//   refuses less); the poll runs on the first request after the interval. The request carries
//   `Authorization: Bearer $SUPERGRAPH_TOKEN` (the registry serves its supergraph to the router
//   only) and the last ETag: an unchanged supergraph costs a 304.
// A CLI argument still overrides SUPERGRAPH (CLI precedence); then the CLI watches/polls it.
//
// Host/port: ROUTER_HOST/ROUTER_PORT (default 127.0.0.1:4000). The CLI flags --host/--port and
// the env HOST/PORT (read by the CLI) take precedence over these.
import { randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { defineConfig } from '@graphql-hive/gateway';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError } from 'graphql';
import { usageReportingOptionsFromEnv, useUsageReporting } from './usage-reporting.mjs';
import { DEFAULT_MAX_BODY_BYTES, useBodyLimit } from './body-limit.mjs';

// Query planner: Hive Router's Rust planner and executor (@graphql-hive/router-runtime, a native
// addon) unless ROUTER_QUERY_PLANNER=js, or its binary does not load here: then the default
// JavaScript (stitching) runtime. `make bench` measures both.
let plannerRuntime = {};
if ((process.env.ROUTER_QUERY_PLANNER || 'rust') !== 'js') {
  try {
    const { unifiedGraphHandler } = await import('@graphql-hive/router-runtime');
    plannerRuntime = { unifiedGraphHandler };
  } catch (error) {
    console.warn(`Rust query planner unavailable (${error.message}); using the JavaScript planner`);
  }
}

// OpenTelemetry traces when the standard variables ask for them (OTEL_TRACES_EXPORTER=otlp,
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME): spans for the request, the operation, its
// planning and each subgraph call, exported over OTLP/HTTP; each subgraph call carries the
// router's span as its `traceparent`, so a subgraph's spans are children of the router's.
const tracesRequested =
  !['', 'none'].includes((process.env.OTEL_TRACES_EXPORTER || 'none').trim().toLowerCase()) &&
  (process.env.OTEL_SDK_DISABLED || '').toLowerCase() !== 'true';
const traceSampleRatio = Math.min(1, Math.max(0, Number(process.env.ROUTER_TRACE_SAMPLE_RATIO ?? 0.1)));
let otel = null;
if (tracesRequested) {
  const { openTelemetrySetup } = await import('@graphql-hive/plugin-opentelemetry/setup');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: process.env.OTEL_SERVICE_NAME || 'spotify-agent-router' },
    traces: { exporter: new OTLPTraceExporter() },
    samplingRate: traceSampleRatio,
  });
  otel = await import('@graphql-hive/plugin-opentelemetry/api');
}

const source = process.env.SUPERGRAPH;
const isUrl = (value) => /^https?:\/\//.test(value ?? '');
const supergraphFile = source && !isUrl(source) ? resolve(source) : null;
const pollingInterval = Math.max(10_000, Number(process.env.SUPERGRAPH_POLL_INTERVAL_MS) || 10_000);

/** The supergraph from an http(s) source, with the router's token; a 304 reuses the last one. */
function supergraphFetcher(url, token) {
  let last = null;
  return async () => {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (last?.etag) headers['if-none-match'] = last.etag;
    const response = await fetch(url, { headers });
    if (response.status === 304 && last) return last.sdl;
    if (!response.ok) throw new Error(`supergraph ${url}: HTTP ${response.status}`);
    last = { sdl: await response.text(), etag: response.headers.get('etag') };
    return last.sdl;
  };
}

// Peers allowed to tell us the client address in X-Forwarded-For (a load balancer in front).
const trustedProxies = new Set(
  (process.env.ROUTER_TRUSTED_PROXIES ?? '').split(',').map((a) => a.trim()).filter(Boolean),
);

const bare = (address) => address?.replace(/^::ffff:/, '');

/** The address subgraphs rate-limit on: the socket peer, or, behind trusted proxies, the
 * right-most X-Forwarded-For entry that is not one of them. A client-sent header alone is ignored. */
function clientAddress(context) {
  let address = bare(context.req?.socket?.remoteAddress);
  if (!trustedProxies.has(address)) return address;
  const chain = (context.request?.headers.get('x-forwarded-for') ?? '').split(',').map((a) => bare(a.trim()));
  while (chain.length && trustedProxies.has(address)) address = chain.pop() || address;
  return address;
}

/** The client's token: from its WS connection_init payload (`Authorization` or `authorization`),
 * else from the HTTP request (SSE, plain HTTP, or the WS upgrade request). */
function clientAuthorization(context) {
  const params = context.connectionParams;
  const fromParams = params && (params.Authorization ?? params.authorization);
  if (typeof fromParams === 'string' && fromParams) return fromParams;
  return context.request?.headers.get('authorization') ?? undefined;
}

/** Puts the two values in the context, where transport interpolation (`{context.…}`) and
 * propagateHeaders read them. Also watches the supergraph file, see the top comment. */
function clientIdentityAndSupergraphWatch() {
  return {
    onYogaInit() {
      if (!supergraphFile) return;
      let timer;
      // Coalesce the events of one rewrite (create temp, rename over) into one reload. Plugins
      // cannot reach runtime.invalidateUnifiedGraph(); the CLI listens for this process message
      // (what it sends its forked workers) and calls it.
      const reload = () => {
        clearTimeout(timer);
        timer = setTimeout(() => process.emit('message', 'invalidateUnifiedGraph'), 25);
      };
      const watcher = watch(dirname(supergraphFile), (_event, name) => {
        if (name === basename(supergraphFile)) reload();
      });
      watcher.unref();
    },
    onContextBuilding({ context, extendContext }) {
      extendContext({
        clientAuthorization: clientAuthorization(context),
        clientAddress: clientAddress(context),
      });
    },
  };
}

const TRACE_HEADERS = ['tracestate', 'x-request-id'];
// The sampling decision of a trace the router starts (its `traceparent` flags): a share of
// ROUTER_TRACE_SAMPLE_RATIO (default 0.1) is marked sampled, and the subgraphs' parent-based
// samplers follow it, so one request is traced everywhere or nowhere.
const sampledFlag = () => (Math.random() < traceSampleRatio ? '01' : '00');
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const traceparents = new WeakMap();

/** The request's W3C `traceparent`: the client's when valid, else one made here. Every subgraph
 * call of the request carries it and so does the answer, so one trace id finds the request in
 * the client's hands and in every subgraph's log. */
function traceparentOf(request) {
  if (otel) {
    // With traces on, the request's own span (continuing the client's traceparent, if any).
    const span = otel.trace.getSpanContext(otel.hive.getHttpContext(request));
    if (span && otel.isSpanContextValid(span)) return `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`;
  }
  let value = traceparents.get(request);
  if (!value) {
    const given = request.headers.get('traceparent')?.trim().toLowerCase();
    value = given && TRACEPARENT.test(given)
      ? given
      : `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${sampledFlag()}`;
    traceparents.set(request, value);
  }
  return value;
}

function traceparentOnAnswers() {
  return {
    onResponse({ request, response }) {
      response.headers.set('traceparent', traceparentOf(request));
    },
  };
}

/** GraphiQL's page (~9 MB, its bundle inlined) is loaded on the first browser visit, not at
 * start-up: most routers never serve it, and it is the largest thing their heap would hold. */
let graphiqlRenderer;
async function renderGraphiQLOnFirstVisit(options) {
  graphiqlRenderer ??= (await import('@graphql-yoga/render-graphiql')).renderGraphiQL;
  return graphiqlRenderer(options);
}

/** The depth limit (graphql-armor) as a validation error with a code: by default it throws a
 * bare error, the one refusal that would reach a client without `extensions.code`. */
function depthLimit(maxDepth) {
  return maxDepthPlugin({
    n: maxDepth,
    ignoreIntrospection: true,
    propagateOnRejection: false,
    onReject: [
      (context, error) =>
        context.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          }),
        ),
    ],
  });
}

export const gatewayConfig = defineConfig({
  ...plannerRuntime,
  // A function returning the path: the gateway re-reads the file on each load, and the CLI does
  // not attach its own watcher (it only does for a plain string).
  ...(supergraphFile
    ? { supergraph: () => supergraphFile }
    : source
      ? { supergraph: supergraphFetcher(source, process.env.SUPERGRAPH_TOKEN) }
      : {}),
  pollingInterval,
  host: process.env.ROUTER_HOST || '127.0.0.1',
  port: Number(process.env.ROUTER_PORT) || 4000,
  // Refused before any planning or subgraph call (the subgraphs apply the same limits to their
  // own share of a query): ROUTER_MAX_TOKENS here, ROUTER_MAX_DEPTH in depthLimit below.
  maxTokens: Number(process.env.ROUTER_MAX_TOKENS) || 2000,
  healthCheckEndpoint: '/healthz',
  readinessCheckEndpoint: '/readyz',
  // In-flight queries finish on the old supergraph during a reload. Open subscriptions still end
  // on any real change (the client gets a plain `complete`) and must resubscribe; an identical
  // rewrite is skipped by the gateway and ends nothing.
  gracefulSchemaReload: { drainTimeout: 30_000 },
  transportEntries: {
    '*.http': {
      options: {
        // Upstream identical queries are never merged: two callers (or two requests with
        // different per-address rate limits) must each reach the subgraph. Per-request
        // switching is not possible at this layer, so it is off for all.
        deduplicateInflightRequests: false,
        // Strawberry speaks graphql-transport-ws (the gateway's default upstream is SSE).
        // No `location`: it would be resolved against the subgraph URL and drop a path prefix
        // (`/graphql` from http://h/accounts/graphql is http://h/graphql); without it the WS
        // URL is the subgraph's own URL.
        subscriptions: {
          kind: 'ws',
          // WS upgrade headers ([name, value] pairs): the client address for rate limits.
          headers: [['x-forwarded-for', '{context.clientAddress}']],
          options: {
            // Upstream connection_init payload. One upstream socket per distinct payload, so
            // users never share a socket. Omitted (empty) when the client sent no token.
            connectionParams: { Authorization: '{context.clientAuthorization}' },
          },
        },
      },
    },
  },
  propagateHeaders: {
    fromClientToSubgraphs({ request, context }) {
      const headers = {
        authorization: context.clientAuthorization,
        'x-forwarded-for': context.clientAddress,
      };
      headers.traceparent = traceparentOf(request);
      for (const name of TRACE_HEADERS) headers[name] = request.headers.get(name) ?? undefined;
      return headers;
    },
  },
  // Inbound deduplication stays off (the default): no request ever shares another's execution.
  // GraphiQL with its whole bundle inlined (~9 MB): works with no internet, unlike the default
  // Hive Laboratory (editor from cdn.jsdelivr) or --render-legacy-graphiql (unpkg).
  renderGraphiQL: renderGraphiQLOnFirstVisit,
  graphiql: {
    title: 'Spotify Agent API',
    defaultQuery: '# Headers tab: {"Authorization": "Bearer <token>"}\n{\n  me {\n    id\n    displayName\n  }\n}\n',
  },
  landingPage: false,
  ...(tracesRequested ? { openTelemetry: { traces: true } } : {}),
  // Prometheus metrics at /metrics (ROUTER_METRICS=off drops them): requests and their
  // durations and errors, and each subgraph call's duration and errors by subgraph. Parse,
  // validation and planning phases are not timed separately: their caches make them near zero.
  // No operation-name label: names come from clients, and each new one would be a new series
  // (the subgraphs label at most 200 names per process).
  ...(process.env.ROUTER_METRICS === 'off'
    ? {}
    : {
        prometheus: {
          endpoint: '/metrics',
          metrics: {
            graphql_envelop_request_duration: true,
            graphql_envelop_error_result: true,
            graphql_gateway_subgraph_execute_duration: true,
            graphql_gateway_subgraph_execute_errors: true,
            graphql_gateway_fetch_duration: false,
            graphql_yoga_http_duration: false,
            graphql_envelop_phase_parse: false,
            graphql_envelop_phase_validate: false,
            graphql_envelop_phase_context: false,
            graphql_envelop_phase_execute: false,
            graphql_envelop_phase_subscribe: false,
            graphql_envelop_request_time_summary: false,
            graphql_envelop_request: false,
            graphql_envelop_deprecated_field: false,
            graphql_envelop_schema_change: false,
          },
          labels: { subgraphName: true, operationName: false, path: false },
        },
      }),
  // Usage reporting to the schema registry only when USAGE_REPORT_URL is set (usage-reporting.mjs).
  plugins: (context) => [
    clientIdentityAndSupergraphWatch(),
    useBodyLimit(Number(process.env.ROUTER_MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES),
    depthLimit(Number(process.env.ROUTER_MAX_DEPTH) || 12),
    traceparentOnAnswers(),
    ...(process.env.USAGE_REPORT_URL
      ? [useUsageReporting(usageReportingOptionsFromEnv(process.env), { log: context?.log })]
      : []),
  ],
});

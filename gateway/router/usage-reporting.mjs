// Usage reporting for the schema registry: which schema coordinates real traffic uses.
//
// Every execution (a subscription once, when it starts) is aggregated in memory per
// (operation hash, client name, client version, minute) and POSTed as JSON to USAGE_REPORT_URL:
//   {"reports": [{operationHash, operationName, coordinates, client: {name, version}, count, errors,
//                 bucket}], "dropped": <executions lost since the last successful post>}
// The request path never waits for a post: executions beyond USAGE_REPORT_MAX_PENDING are only
// counted as dropped, one post is in flight at a time, and a failed post is not retried (its
// executions are added to `dropped` and sent with the next successful post).
//
// Env: USAGE_REPORT_URL (required), USAGE_REPORT_TOKEN (Bearer, optional), USAGE_REPORT_INTERVAL_MS
// (5000), USAGE_REPORT_MAX_BATCH reports per post (500), USAGE_REPORT_MAX_PENDING executions (10000),
// USAGE_REPORT_TIMEOUT_MS per post (5000).
//
// Hooks: onExecuteDone (queries and mutations, after the result is known, for `errors`),
// onSubscribeResult (subscriptions, once when started), onDispose (the final flush: the gateway
// disposes its plugins on SIGTERM/SIGINT).
import { createHash } from 'node:crypto';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  Kind,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';

const CLIENT_NAME_HEADERS = ['graphql-client-name', 'apollographql-client-name'];
const CLIENT_VERSION_HEADERS = ['graphql-client-version', 'apollographql-client-version'];
const META_FIELDS = new Set(['__schema', '__type', '__typename']);
const MAX_CACHED_OPERATIONS = 1000;
// Client names/versions are report keys held in memory: a client must not grow them at will.
const MAX_CLIENT_FIELD_LENGTH = 128;
const MIN_INTERVAL_MS = 10;

const positiveInt = (value, fallback) => {
  const number = Math.floor(Number(value));
  return Number.isFinite(number) && number > 0 ? number : fallback;
};

/** Fails fast (the gateway does not start) on a URL that could never be posted to. */
function reportUrl(value) {
  const url = URL.canParse(value) ? new URL(value) : null;
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password) {
    throw new Error('USAGE_REPORT_URL must be an http(s) URL without credentials (use USAGE_REPORT_TOKEN)');
  }
  return url.href;
}

export function usageReportingOptionsFromEnv(env = process.env) {
  return {
    url: reportUrl(env.USAGE_REPORT_URL),
    token: env.USAGE_REPORT_TOKEN || undefined,
    intervalMs: Math.max(MIN_INTERVAL_MS, positiveInt(env.USAGE_REPORT_INTERVAL_MS, 5000)),
    maxBatch: positiveInt(env.USAGE_REPORT_MAX_BATCH, 500),
    maxPending: positiveInt(env.USAGE_REPORT_MAX_PENDING, 10_000),
    timeoutMs: positiveInt(env.USAGE_REPORT_TIMEOUT_MS, 5000),
  };
}

// --- What an operation uses ---------------------------------------------------------------------

/** The executed operation and the fragments it reaches: a document with several operations gets
 * one hash (and one coordinate set) per operation, not one for all of them. */
function operationDocument(document, operationName) {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length <= 1) return { document, operation: operations[0] };
  const operation = operations.find((op) => op.name?.value === operationName);
  if (!operation) return { document, operation: undefined };
  const fragments = new Map(
    document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const used = new Set();
  const unvisited = [operation];
  while (unvisited.length) {
    visit(unvisited.pop(), {
      FragmentSpread({ name: { value } }) {
        if (used.has(value) || !fragments.has(value)) return;
        used.add(value);
        unvisited.push(fragments.get(value));
      },
    });
  }
  const definitions = document.definitions.filter(
    (d) => d === operation || (d.kind === Kind.FRAGMENT_DEFINITION && used.has(d.name.value)),
  );
  return { document: { kind: Kind.DOCUMENT, definitions }, operation };
}

/** Coordinates readable from the document alone, and the variables whose values name more (input
 * object fields). Introspection (`__schema`, `__type`, introspection types) and `__typename` are
 * skipped; directive arguments (`@include(if:)`) are not schema coordinates. */
function staticUsage(schema, document) {
  const typeInfo = new TypeInfo(schema);
  const coordinates = new Set();
  const inputObjectVariables = [];
  const fieldCoordinate = () => {
    const parent = typeInfo.getParentType();
    const field = typeInfo.getFieldDef();
    return parent && field ? `${parent.name}.${field.name}` : undefined;
  };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        if (META_FIELDS.has(node.name.value) || typeInfo.getParentType()?.name.startsWith('__')) {
          return false;
        }
        const coordinate = fieldCoordinate();
        if (coordinate) coordinates.add(coordinate);
      },
      Directive: () => false,
      Argument(node) {
        const coordinate = fieldCoordinate();
        if (coordinate && typeInfo.getArgument()) coordinates.add(`${coordinate}(${node.name.value}:)`);
      },
      ObjectField(node) {
        const inputObject = getNamedType(typeInfo.getParentInputType());
        if (isInputObjectType(inputObject)) coordinates.add(`${inputObject.name}.${node.name.value}`);
      },
      EnumValue(node) {
        const enumType = getNamedType(typeInfo.getInputType());
        if (isEnumType(enumType)) coordinates.add(`${enumType.name}.${node.value}`);
      },
      VariableDefinition(node) {
        const type = typeInfo.getInputType();
        if (!isInputObjectType(getNamedType(type))) return;
        inputObjectVariables.push([node.variable.name.value, type]);
      },
    }),
  );
  return { coordinates: [...coordinates].sort(), inputObjectVariables };
}

/** `InputType.field` for every field present in a variable's value, nested objects and lists included. */
function addInputValueCoordinates(type, value, into) {
  if (value === null || typeof value !== 'object') return;
  const inputObject = getNamedType(type);
  if (Array.isArray(value)) {
    for (const item of value) addInputValueCoordinates(inputObject, item, into);
    return;
  }
  if (!isInputObjectType(inputObject)) return;
  const fields = inputObject.getFields();
  for (const name of Object.keys(value)) {
    if (!fields[name]) continue;
    into.add(`${inputObject.name}.${name}`);
    addInputValueCoordinates(fields[name].type, value[name], into);
  }
}

/** Per schema (a reload brings a new one; the old cache goes with it): operations by parsed
 * document object (Yoga's parser cache hands out the same object for the same query text), then
 * by hash of the printed operation (same operation, other formatting), bounded. */
class OperationUsageCache {
  #bySchema = new WeakMap();

  get(schema, document, operationName) {
    let forSchema = this.#bySchema.get(schema);
    if (!forSchema) {
      forSchema = { byDocument: new WeakMap(), byHash: new Map() };
      this.#bySchema.set(schema, forSchema);
    }
    let byName = forSchema.byDocument.get(document);
    if (!byName) {
      byName = new Map();
      forSchema.byDocument.set(document, byName);
    }
    const key = operationName ?? '';
    let usage = byName.get(key);
    if (!usage) {
      usage = this.#byHash(forSchema.byHash, schema, document, operationName);
      byName.set(key, usage);
    }
    return usage;
  }

  #byHash(byHash, schema, document, operationName) {
    const selected = operationDocument(document, operationName);
    const operationHash = createHash('sha256').update(print(selected.document)).digest('hex');
    let usage = byHash.get(operationHash);
    if (usage) return usage;
    usage = {
      operationHash,
      operationName: selected.operation?.name?.value ?? operationName ?? null,
      ...staticUsage(schema, selected.document),
    };
    if (byHash.size >= MAX_CACHED_OPERATIONS) byHash.delete(byHash.keys().next().value);
    byHash.set(operationHash, usage);
    return usage;
  }
}

// --- Aggregation and posting ---------------------------------------------------------------------

/** "2026-11-26T11:05:00Z" for any instant in that minute. */
function minuteBucket(epochMs) {
  return new Date(epochMs - (epochMs % 60_000)).toISOString().replace('.000Z', 'Z');
}

export class UsageReporter {
  #options;
  #log;
  #fetch;
  #pending = new Map();
  #pendingExecutions = 0;
  #dropped = 0;
  #inFlight = null;
  #timer = null;
  #flushScheduled = false;
  #failing = false;
  #disposed = false;
  #bucket = { minute: -1, text: '' };

  constructor(options, { log = console, fetch = globalThis.fetch } = {}) {
    this.#options = options;
    this.#log = log;
    this.#fetch = fetch;
  }

  /** Called on the request path: constant work, never waits. */
  record(usage, client, hadErrors, variables) {
    if (this.#disposed) return;
    if (this.#pendingExecutions >= this.#options.maxPending) {
      this.#dropped += 1;
      return;
    }
    const report = this.#reportFor(usage, client);
    report.count += 1;
    if (hadErrors) report.errors += 1;
    if (usage.inputObjectVariables.length && variables) {
      this.#addVariableCoordinates(report, usage, variables);
    }
    this.#pendingExecutions += 1;
    this.#startTimer();
    if (this.#pending.size >= this.#options.maxBatch) this.#scheduleFlush();
  }

  #reportFor(usage, client) {
    const bucket = this.#currentBucket();
    const key = `${usage.operationHash}\n${client.name}\n${client.version}\n${bucket}`;
    let report = this.#pending.get(key);
    if (!report) {
      report = { usage, client, bucket, count: 0, errors: 0, variableCoordinates: null };
      this.#pending.set(key, report);
    }
    return report;
  }

  #addVariableCoordinates(report, usage, variables) {
    report.variableCoordinates ??= new Set();
    for (const [name, type] of usage.inputObjectVariables) {
      addInputValueCoordinates(type, variables[name], report.variableCoordinates);
    }
  }

  #currentBucket() {
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    if (minute !== this.#bucket.minute) this.#bucket = { minute, text: minuteBucket(now) };
    return this.#bucket.text;
  }

  #startTimer() {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.flush(), this.#options.intervalMs);
    this.#timer.unref();
  }

  #scheduleFlush() {
    if (this.#flushScheduled || this.#inFlight) return;
    this.#flushScheduled = true;
    // Out of the request's call stack: serializing a batch is not the request's cost.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.flush();
    }).unref();
  }

  /** Posts up to maxBatch pending reports (and the dropped count); resolves to whether it was sent.
   * While a post is in flight, this waits for it instead of starting another. */
  flush() {
    if (this.#inFlight) return this.#inFlight;
    if (!this.#pending.size && !this.#dropped) return Promise.resolve(true);
    const { reports, executions } = this.#takeBatch();
    const dropped = this.#dropped;
    this.#inFlight = this.#post({ reports, dropped }).then((sent) => {
      if (sent) this.#dropped -= dropped;
      else this.#dropped += executions;
      this.#inFlight = null;
      if (this.#pending.size >= this.#options.maxBatch) this.#scheduleFlush();
      return sent;
    });
    return this.#inFlight;
  }

  #takeBatch() {
    const reports = [];
    let executions = 0;
    for (const [key, report] of this.#pending) {
      if (reports.length >= this.#options.maxBatch) break;
      this.#pending.delete(key);
      executions += report.count;
      reports.push(toReportJson(report));
    }
    this.#pendingExecutions -= executions;
    return { reports, executions };
  }

  async #post(body) {
    const headers = { 'content-type': 'application/json' };
    if (this.#options.token) headers.authorization = `Bearer ${this.#options.token}`;
    try {
      const response = await this.#fetch(this.#options.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) return this.#failed(body, `HTTP ${response.status}`);
    } catch (error) {
      return this.#failed(body, error?.cause?.code ?? error?.name ?? String(error));
    }
    if (this.#failing) this.#log.info('Usage reports are being accepted again');
    this.#failing = false;
    return true;
  }

  /** Warns once per run of failures, not on every interval while the registry is down. */
  #failed(body, reason) {
    const lost = body.reports.reduce((sum, report) => sum + report.count, 0);
    const message = `Usage report post failed (${reason}); ${lost} executions counted as dropped`;
    if (this.#failing) this.#log.debug(message);
    else this.#log.warn(message);
    this.#failing = true;
    return false;
  }

  /** Final flush on shutdown: everything pending, in batches, stopping at the first failure. */
  async dispose() {
    this.#disposed = true;
    clearInterval(this.#timer);
    this.#timer = null;
    await this.#inFlight;
    const posts = Math.ceil(this.#pending.size / this.#options.maxBatch) || 1;
    for (let i = 0; i < posts && (this.#pending.size || this.#dropped); i += 1) {
      if (!(await this.flush())) return;
    }
  }
}

function toReportJson({ usage, client, bucket, count, errors, variableCoordinates }) {
  const coordinates = variableCoordinates?.size
    ? [...new Set([...usage.coordinates, ...variableCoordinates])].sort()
    : usage.coordinates;
  return {
    operationHash: usage.operationHash,
    operationName: usage.operationName,
    coordinates,
    client,
    count,
    errors,
    bucket,
  };
}

// --- The gateway plugin ----------------------------------------------------------------------------

function firstHeader(context, names) {
  const headers = context?.request?.headers;
  for (const name of names) {
    // Browsers cannot set headers on a WebSocket: accept the client name in connection_init too.
    const value = headers?.get(name) ?? context?.connectionParams?.[name];
    if (typeof value === 'string' && value) return value.slice(0, MAX_CLIENT_FIELD_LENGTH);
  }
  return null;
}

const clientOf = (context) => ({
  name: firstHeader(context, CLIENT_NAME_HEADERS),
  version: firstHeader(context, CLIENT_VERSION_HEADERS),
});

const isAsyncIterable = (value) => typeof value?.[Symbol.asyncIterator] === 'function';
const hasErrors = (result) => Boolean(result?.errors?.length);

/** Hive Gateway / Yoga (Envelop) plugin. `options` as from usageReportingOptionsFromEnv; `log` is
 * the gateway logger (the `plugins(ctx)` argument's `ctx.log`). */
export function useUsageReporting(options, { log = console, fetch } = {}) {
  const reporter = new UsageReporter(options, { log, fetch });
  const { origin, pathname } = new URL(options.url);
  log.info(`Usage reporting to ${origin}${pathname} every ${options.intervalMs} ms`);
  const cache = new OperationUsageCache();
  let warnedAboutBug = false;

  // Reporting must never break a request: a bug here is logged once and the execution skipped.
  const record = (args, hadErrors) => {
    try {
      const usage = cache.get(args.schema, args.document, args.operationName);
      if (!usage.coordinates.length) return; // introspection-only (or `{ __typename }`)
      reporter.record(usage, clientOf(args.contextValue), hadErrors, args.variableValues);
    } catch (error) {
      if (!warnedAboutBug) log.error(`Usage reporting failed for an execution: ${error?.stack ?? error}`);
      warnedAboutBug = true;
    }
  };

  return {
    onExecute() {
      return {
        onExecuteDone({ args, result }) {
          if (!isAsyncIterable(result)) {
            record(args, hasErrors(result));
            return undefined;
          }
          // @defer / @stream: one execution, reported when its last part is out.
          let hadErrors = false;
          return {
            onNext({ result: part }) {
              hadErrors ||= hasErrors(part);
            },
            onEnd() {
              record(args, hadErrors);
            },
          };
        },
      };
    },
    onSubscribe({ args }) {
      return {
        onSubscribeResult({ result }) {
          record(args, !isAsyncIterable(result) && hasErrors(result));
        },
        onSubscribeError() {
          record(args, true);
        },
      };
    },
    onDispose: () => reporter.dispose(),
  };
}

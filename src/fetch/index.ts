/**
 * `breakwater/fetch`: `fetch` with the resilience people expect — retries with backoff that honour
 * `Retry-After`, a circuit breaker per origin, timeouts, a concurrency limit — and that never
 * repeats a POST by accident.
 *
 * @example
 * ```ts
 * import { resilientFetch } from 'breakwater/fetch';
 * const http = resilientFetch({ name: 'github' });
 * const res = await http('https://api.github.com/repos/nodejs/node');
 * console.log(res.status, await res.json());
 * ```
 *
 * @module
 */
import { markNonIdempotent, markOutcome } from '../idempotency.js';
import type { Clock } from '../clock.js';
import { isClock } from '../clock.js';
import type { AttemptContext, MetricsOption, Policy, RegistryLike } from '../contract.js';
import { optBool, optionsObject, optStr, typeError, rangeError } from '../validate.js';
import { HttpStatusError } from './errors.js';
import { refuseUnknown } from './options.js';
import { type Standard, standardPipeline, type StandardPipelineOptions } from './standard.js';
import type { Pipeline } from '../pipeline.js';

export { HttpStatusError, parseRetryAfter } from './errors.js';
export type { StandardPipelineOptions } from './standard.js';

/**
 * The `fetch` signature: what `resilientFetch` takes as its `fetch` option and returns.
 *
 * @example
 * ```ts
 * import { resilientFetch, type FetchFunction } from 'breakwater/fetch';
 * const logged: FetchFunction = (input, init) => (console.log(init?.method ?? 'GET', String(input)), fetch(input, init));
 * const http = resilientFetch({ fetch: logged });
 * ```
 */
export type FetchFunction = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/**
 * Options of {@link resilientFetch}.
 *
 * @example
 * ```ts
 * import { resilientFetch, type ResilientFetchOptions } from 'breakwater/fetch';
 * const options: ResilientFetchOptions = { name: 'payments', throwOnStatus: true, standard: { maxAttempts: 2 } };
 * const http = resilientFetch(options);
 * ```
 */
export interface ResilientFetchOptions {
  /** The fetch to call (undici's, a test double, a browser's). @defaultValue `globalThis.fetch` */
  readonly fetch?: FetchFunction;
  /**
   * Your own policy instead of the standard pipeline: a `Policy`, or a function of the request
   * returning one (called per request; build the policies once, outside it).
   * @defaultValue the standard pipeline (see `standard`)
   */
  readonly policy?: Policy | ((request: Request) => Policy);
  /** The standard pipeline's numbers (not with `policy`). */
  readonly standard?: StandardPipelineOptions;
  /** Statuses that count as failures (integers in [100, 599]). @defaultValue `[408, 429, 500, 502, 503, 504]` */
  readonly failureStatuses?: readonly number[];
  /** Allow retries and hedges of POST, PATCH and unknown methods. @defaultValue `false` */
  readonly retryNonIdempotent?: boolean;
  /** After the pipeline gives up on a status, reject with `HttpStatusError` instead of returning the `Response`. @defaultValue `false` */
  readonly throwOnStatus?: boolean;
  /** Prefix of the policies' names: `${name}:retry`, `${name}:${origin}` for the breakers, … @defaultValue `fetch-${n}` */
  readonly name?: string;
  /** Lists the standard pipeline's policies (the breakers as they are built) in this registry. */
  readonly registry?: RegistryLike;
  /** Time source of the standard pipeline. @defaultValue `systemClock` */
  readonly clock?: Clock;
  /** Metrics settings of the standard pipeline's policies (`false`: off). @defaultValue `{ windowMs: 10000, buckets: 10 }` */
  readonly metrics?: MetricsOption;
}

/**
 * A resilient `fetch` (see {@link resilientFetch}): fetch's signature, plus `dispose()`.
 *
 * @example
 * ```ts
 * import { resilientFetch, type ResilientFetch } from 'breakwater/fetch';
 * const http: ResilientFetch = resilientFetch();
 * await http('https://example.com/');
 * http.dispose(); // clears the breakers' timers
 * ```
 */
export interface ResilientFetch extends FetchFunction {
  /**
   * The standard pipeline (`undefined` with the `policy` option): total timeout, retry, the
   * per-origin breakers (a `policyPool` keyed by origin), attempt timeout, bulkhead.
   */
  readonly policy: Pipeline | undefined;
  /** Disposes the standard pipeline's policies; later calls reject. */
  dispose(): void;
}

const OPTIONS = [
  'fetch',
  'policy',
  'standard',
  'failureStatuses',
  'retryNonIdempotent',
  'throwOnStatus',
  'name',
  'registry',
  'clock',
  'metrics',
] as const;

const DEFAULT_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504];
/** Methods that may be sent more than once (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
let clients = 0;

function isPolicy(value: unknown): value is Policy {
  return typeof value === 'object' && value !== null && typeof (value as Policy).execute === 'function';
}

/** The state of one call: the failed responses to cancel, and whether it sent something once-only. */
interface Call {
  failed: Response[] | undefined;
  sent: boolean;
}

function cancelBody(res: Response): void {
  const body = res.body;
  if (body === null || body.locked) return;
  body.cancel().catch(() => {});
}

/** Cancels the bodies of the call's failed responses, but `keep`'s. */
function cancelFailed(call: Call, keep?: Response): void {
  const failed = call.failed;
  if (failed === undefined) return;
  call.failed = undefined;
  for (const res of failed) if (res !== keep) cancelBody(res);
}

/** A body fetch can send only once: a stream (or an async iterable, which Node's fetch takes). */
function streamBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  return typeof (body as ReadableStream).getReader === 'function' || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** The request's origin: the call key of the standard pipeline (one breaker per host). */
function originOf(url: string): string {
  // The common case without a URL parse: a lower-case absolute http(s) URL with no userinfo.
  const m = /^https?:\/\/[^/?#@A-Z]*/.exec(url);
  if (m !== null && !/:(80|443)$/.test(m[0])) return m[0];
  try {
    return new URL(url, (globalThis as { location?: { href?: string } }).location?.href).origin;
  } catch {
    return url;
  }
}

/**
 * A `Request` of any fetch implementation (the global one, undici's package, another realm's):
 * checked by shape, since `instanceof Request` fails across them.
 */
function isRequest(input: unknown): input is Request {
  return typeof input === 'object' && input !== null && typeof (input as Request).url === 'string' && typeof (input as Request).method === 'string';
}

function urlOf(input: RequestInfo | URL): string {
  if (typeof input === 'string') return input;
  if (!isRequest(input)) return String(input);
  return input.url;
}

/**
 * `fetch` with resilience: returns a function with fetch's own signature.
 *
 * By default each client gets the standard pipeline: a total timeout of 30 s → a retry (3
 * attempts, exponential backoff from 300 ms up to 10 s with full jitter, a retry budget of the
 * client's own, `Retry-After` hints up to 10 s) → one circuit breaker per origin (named
 * `${name}:${origin}`: 30 s time window, opens at a 50% failure rate over at least 20 calls, open
 * for 5 s growing to 60 s) → a 10 s timeout per attempt → a bulkhead of 1000 requests in flight.
 * Every number is an option under `standard`; `policy` replaces the whole pipeline.
 *
 * - A response whose status is in `failureStatuses` is an {@link HttpStatusError} inside the
 *   pipeline (so retry, breaker, hedge and fallback see it); its body is cancelled before another
 *   attempt starts. When the pipeline gives up, the caller gets that last `Response` (fetch never
 *   rejects on a status), or the `HttpStatusError` with `throwOnStatus`.
 * - Network errors and timeouts reject as themselves (`TypeError`, `TimeoutError`). The caller's
 *   `init.signal` is the call's signal; each attempt's fetch gets that attempt's signal.
 * - GET, HEAD, OPTIONS, PUT, DELETE and TRACE may be repeated. POST, PATCH and other methods are
 *   sent at most once by any retry or hedge in any pipeline (yours around this function
 *   included, see `markNonIdempotent`), unless the request has an `Idempotency-Key` header or
 *   `retryNonIdempotent` is set.
 * - A `ReadableStream` body is sent at most once; string, `Blob`, `ArrayBuffer`, typed array,
 *   `URLSearchParams` and `FormData` bodies are sent again on each attempt. A `Request` object
 *   with a body counts as a stream (pass the body in `init` to have it replayed).
 *
 * **Gotchas:** the breakers keep timers while open: call `dispose()` when the client goes away.
 * A `Retry-After` longer than `maxRetryAfterMs` is not waited out: the caller gets the 429 or 503
 * at once.
 *
 * @example
 * ```ts
 * import { resilientFetch } from 'breakwater/fetch';
 * import { createRegistry } from 'breakwater';
 * const registry = createRegistry();
 * const http = resilientFetch({ name: 'api', registry, standard: { maxAttempts: 4, attemptTimeoutMs: 2_000 } });
 * const res = await http('https://api.example.com/items', { headers: { accept: 'application/json' } });
 * if (res.ok) console.log(await res.json());
 * // POST is sent once, unless it carries an Idempotency-Key:
 * await http('https://api.example.com/orders', { method: 'POST', body: '{}', headers: { 'idempotency-key': crypto.randomUUID() } });
 * ```
 */
export function resilientFetch(options?: ResilientFetchOptions): ResilientFetch {
  const p = 'resilientFetch';
  const o = optionsObject(p, options);
  refuseUnknown(p, o, OPTIONS);
  const f = o['fetch'] ?? (globalThis as { fetch?: unknown }).fetch;
  if (typeof f !== 'function') typeError(p, 'fetch', 'a function (no global fetch here)', f);
  const doFetch = f as FetchFunction;
  const policyOption = o['policy'];
  if (policyOption !== undefined && typeof policyOption !== 'function' && !isPolicy(policyOption)) {
    typeError(p, 'policy', 'a Policy or a function of the request returning one', policyOption);
  }
  if (policyOption !== undefined && o['standard'] !== undefined) {
    typeError(p, 'standard', 'left out when policy is given (it configures the standard pipeline)', o['standard']);
  }
  const statuses = new Set<number>();
  const fs = o['failureStatuses'];
  if (fs === undefined) for (const s of DEFAULT_STATUSES) statuses.add(s);
  else {
    if (!Array.isArray(fs)) typeError(p, 'failureStatuses', 'an array of HTTP statuses', fs);
    for (const s of fs as unknown[]) {
      if (typeof s !== 'number') typeError(p, 'failureStatuses', 'an array of integers in [100, 599]', s);
      if (!Number.isInteger(s) || s < 100 || s > 599) rangeError(p, 'failureStatuses', 'an array of integers in [100, 599]', s);
      statuses.add(s);
    }
  }
  const retryNonIdempotent = optBool(p, 'retryNonIdempotent', o['retryNonIdempotent'], false);
  const throwOnStatus = optBool(p, 'throwOnStatus', o['throwOnStatus'], false);
  const name = optStr(p, 'name', o['name']) ?? `fetch-${++clients}`;
  const clock = o['clock'];
  if (clock !== undefined && !isClock(clock)) typeError(p, 'clock', 'a Clock (an object with now, setTimeout and clearTimeout)', clock);
  const registry = o['registry'];
  if (registry !== undefined && (registry === null || typeof (registry as RegistryLike).add !== 'function')) {
    typeError(p, 'registry', 'a registry (from createRegistry())', registry);
  }

  let standard: Standard | undefined;
  if (policyOption === undefined) {
    standard = standardPipeline(o['standard'], {
      name,
      clock,
      registry: registry as RegistryLike | undefined,
      metrics: o['metrics'] as MetricsOption | undefined,
    });
    // A failed response's body goes before the backoff sleep, not only when the next attempt starts.
    standard.retry.events.on('retry', ({ error }) => {
      if (error instanceof HttpStatusError) cancelBody(error.response);
    });
  }
  const std = standard;
  const fixed = isPolicy(policyOption) ? policyOption : undefined;
  const pick = typeof policyOption === 'function' ? (policyOption as (request: Request) => Policy) : undefined;

  const call = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    let policy: Policy;
    let url: string;
    try {
      url = urlOf(input);
      if (std !== undefined) policy = std.policy;
      else if (fixed !== undefined) policy = fixed;
      else {
        const chosen = (pick as (request: Request) => Policy)(requestFor(input, init));
        if (!isPolicy(chosen)) typeError(p, 'policy(request)', 'a Policy', chosen);
        policy = chosen;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const method = (init?.method ?? (isRequest(input) ? input.method : 'GET')).toUpperCase();
    const body = init?.body;
    const once =
      streamBody(body) ||
      (body === undefined && isRequest(input) && input.body !== null) ||
      (!retryNonIdempotent && !IDEMPOTENT.has(method) && !hasIdempotencyKey(input, init));
    const state: Call = { failed: undefined, sent: false };
    const attempt = async (ctx: AttemptContext): Promise<Response> => {
      if (state.failed !== undefined) cancelFailed(state);
      if (once) {
        // Before sending: a hedge around this call must not start a second attempt meanwhile.
        markNonIdempotent(ctx);
        state.sent = true;
      }
      const res = await doFetch(input, init === undefined ? { signal: ctx.signal } : { ...init, signal: ctx.signal });
      if (!statuses.has(res.status)) return res;
      (state.failed ??= []).push(res);
      throw new HttpStatusError(res);
    };
    const signal = init?.signal ?? undefined;
    const key = originOf(url);
    // A user's policy may answer for the fetch (a fallback): it must answer with a Response.
    const run = policy.execute(attempt, signal === undefined ? { key } : { signal, key }) as Promise<Response>;
    return run.then(
      (res) => {
        cancelFailed(state, res);
        if (state.sent) markOutcome(res);
        return res;
      },
      (error: unknown) => {
        const mine = error instanceof HttpStatusError && state.failed?.includes(error.response) === true;
        cancelFailed(state, mine ? (error).response : undefined);
        // The caller's own abort is never repeated anyway, and its reason is the caller's object.
        if (state.sent && !(signal?.aborted === true && error === signal.reason)) markOutcome(error);
        if (!mine || throwOnStatus) throw error;
        const res = (error).response;
        if (state.sent) markOutcome(res);
        return res;
      },
    );
  };

  return Object.assign(call, {
    policy: std?.policy,
    dispose(): void {
      std?.dispose();
    },
  });
}

function hasIdempotencyKey(input: RequestInfo | URL, init: RequestInit | undefined): boolean {
  const h = init?.headers;
  if (h !== undefined) {
    // Headers of any implementation (undici's own class is not the global one).
    if (typeof (h as Headers).has === 'function') return (h as Headers).has('idempotency-key');
    if (Array.isArray(h)) return h.some(([k]) => String(k).toLowerCase() === 'idempotency-key');
    for (const k of Object.keys(h)) if (k.toLowerCase() === 'idempotency-key') return true;
    return false;
  }
  return isRequest(input) && input.headers.has('idempotency-key');
}

/** The request a `policy` function chooses by: method, URL and headers (never the body, which fetch still needs). */
function requestFor(input: RequestInfo | URL, init: RequestInit | undefined): Request {
  if (isRequest(input) && init === undefined) return input;
  const meta: RequestInit = {};
  if (init?.method !== undefined) meta.method = init.method;
  if (init?.headers !== undefined) meta.headers = init.headers;
  else if (isRequest(input)) meta.headers = input.headers;
  return new Request(isRequest(input) ? input.url : input, meta);
}

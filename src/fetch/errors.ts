/**
 * `HttpStatusError`: a response whose status counts as a failure, as an error the policies see.
 *
 * @module
 */
import { BreakwaterError } from '../errors.js';

/**
 * Milliseconds a `Retry-After` header value asks for: delta-seconds (`"120"`) or an HTTP date
 * (`"Wed, 21 Oct 2015 07:28:00 GMT"`, measured against `now`, the wall clock), clamped at 0.
 * `undefined` when the header is absent or unreadable.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from 'breakwater/fetch';
 * parseRetryAfter('3'); // 3000
 * parseRetryAfter(new Date(Date.now() + 5_000).toUTCString()); // about 5000 (whole seconds)
 * parseRetryAfter('soon'); // undefined
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // A date has a month or weekday name; without that test, `Date.parse` reads "1.5" or "-3" as
  // dates in 2001 and the year -3.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return at > now ? at - now : 0;
}

/**
 * A response with a status that counts as a failure (`failureStatuses`: 408, 429, 500, 502, 503,
 * 504 by default). Inside a `resilientFetch` pipeline every such response becomes this error, so
 * retry, circuit breaker, hedge and fallback see it; `retryAfterMs` (from `Retry-After`) makes a
 * retry wait at least that long, or give up when it is longer than the retry's
 * `maxRetryAfterMs`. When the pipeline gives up, the caller gets `response` back (or this
 * error, with `throwOnStatus`); its body is still unread.
 *
 * @example
 * ```ts
 * import { resilientFetch, HttpStatusError } from 'breakwater/fetch';
 * import { isBreakwaterError } from 'breakwater';
 * const http = resilientFetch({ throwOnStatus: true });
 * try {
 *   await http('https://api.example.com/orders');
 * } catch (e) {
 *   if (isBreakwaterError(e, 'EHTTPSTATUS')) console.log((e as HttpStatusError).status, await (e as HttpStatusError).response.text());
 * }
 * ```
 */
export class HttpStatusError extends BreakwaterError {
  override readonly code = 'EHTTPSTATUS' as const;
  /** The response's status. */
  readonly status: number;
  /** The response itself; its body has not been read. */
  readonly response: Response;
  /**
   * Milliseconds the server asked to wait (`Retry-After`, seconds or an HTTP date, at least 0);
   * `undefined` without the header.
   */
  readonly retryAfterMs: number | undefined;

  constructor(response: Response, options?: { readonly now?: number }) {
    super(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    this.status = response.status;
    this.response = response;
    this.retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), options?.now);
  }
}
Object.defineProperty(HttpStatusError.prototype, 'name', { value: 'HttpStatusError', writable: true, configurable: true });

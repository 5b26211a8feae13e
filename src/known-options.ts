/**
 * Refuses option names a factory does not know, naming the nearest known one, with hints for
 * the names users bring along from opossum, cockatiel, Polly, p-retry and resilience4j.
 *
 * Internal: not exported from the package.
 * @module
 */

/** Options every policy takes (see `CommonOptions`). */
export const COMMON_OPTIONS = ['name', 'registry', 'clock', 'metrics'] as const;

/** Options of the policies that classify failures. */
export const HANDLE_OPTIONS = ['handle', 'handleResult'] as const;

const TIMEOUT_HINT = 'a timeout is its own policy: put timeout(ms) inside it in a pipeline';
const EVENTS_HINT = 'subscribe to the policy\'s events instead: policy.events.on(…)';

/**
 * Names from other libraries, by lower-cased name: the name to suggest (or `undefined`) and a
 * note. `policies` limits a hint to the factories where it means something.
 */
const FOREIGN: Readonly<Record<string, { readonly ours?: string; readonly note?: string; readonly policies?: readonly string[] }>> = {
  // opossum
  errorthresholdpercentage: { ours: 'failureRateThreshold', note: 'a fraction in (0, 1], not a percentage', policies: ['circuitBreaker'] },
  resettimeout: { ours: 'openDurationMs', policies: ['circuitBreaker'] },
  volumethreshold: { ours: 'minimumCalls', policies: ['circuitBreaker'] },
  rollingcounttimeout: { ours: 'window', note: "{ type: 'time', durationMs, buckets }", policies: ['circuitBreaker'] },
  rollingcountbuckets: { ours: 'window', note: "{ type: 'time', durationMs, buckets }", policies: ['circuitBreaker'] },
  capacity: { note: 'limit concurrency with a bulkhead() policy in the pipeline', policies: ['circuitBreaker'] },
  // cockatiel
  halfopenafter: { ours: 'openDurationMs', policies: ['circuitBreaker'] },
  breaker: { ours: 'window', note: "{ type: 'consecutive', failures } or { type: 'count', size } or { type: 'time', … }", policies: ['circuitBreaker'] },
  // Polly / resilience4j
  failureratio: { ours: 'failureRateThreshold', policies: ['circuitBreaker'] },
  failureratethreshold: { ours: 'failureRateThreshold', note: 'a fraction in (0, 1]', policies: ['circuitBreaker'] },
  minimumthroughput: { ours: 'minimumCalls', policies: ['circuitBreaker'] },
  minimumnumberofcalls: { ours: 'minimumCalls', policies: ['circuitBreaker'] },
  samplingduration: { ours: 'window', note: "{ type: 'time', durationMs, buckets }", policies: ['circuitBreaker'] },
  slidingwindowsize: { ours: 'window', policies: ['circuitBreaker'] },
  breakduration: { ours: 'openDurationMs', policies: ['circuitBreaker'] },
  waitdurationinopenstate: { ours: 'openDurationMs', policies: ['circuitBreaker'] },
  permittednumberofcallsinhalfopenstate: { ours: 'halfOpenCalls', policies: ['circuitBreaker'] },
  // retries: p-retry, async-retry, cockatiel, Polly
  retries: { ours: 'maxAttempts', note: 'maxAttempts counts the first attempt too: retries + 1', policies: ['retry'] },
  maxretries: { ours: 'maxAttempts', note: 'maxAttempts counts the first attempt too: maxRetries + 1', policies: ['retry'] },
  maxretryattempts: { ours: 'maxAttempts', note: 'maxAttempts counts the first attempt too: MaxRetryAttempts + 1', policies: ['retry'] },
  attempts: { ours: 'maxAttempts', policies: ['retry'] },
  delay: { ours: 'backoff', note: 'backoff.constant(ms) or backoff.exponential({ initialMs })', policies: ['retry'] },
  backofftype: { ours: 'backoff', note: 'backoff.exponential(), backoff.linear() or backoff.constant()', policies: ['retry'] },
  usejitter: { ours: 'backoff', note: "backoff.exponential({ jitter: 'full' })", policies: ['retry'] },
  mintimeout: { ours: 'backoff', note: 'backoff.exponential({ initialMs })', policies: ['retry'] },
  maxtimeout: { ours: 'backoff', note: 'backoff.exponential({ maxMs })', policies: ['retry'] },
  factor: { ours: 'backoff', note: 'backoff.exponential({ factor })', policies: ['retry'] },
  maxretrytime: { ours: 'maxElapsedMs', policies: ['retry'] },
  shouldretry: { ours: 'handle', policies: ['retry'] },
  shouldhandle: { ours: 'handle' },
  onretry: { note: EVENTS_HINT },
  onfailedattempt: { note: EVENTS_HINT },
  onbreak: { note: EVENTS_HINT },
  onopened: { note: EVENTS_HINT },
  // timeouts: Polly, p-timeout
  timeout: { ours: 'durationMs', note: TIMEOUT_HINT, policies: ['timeout'] },
  milliseconds: { ours: 'durationMs', policies: ['timeout'] },
  ms: { ours: 'durationMs', policies: ['timeout'] },
  timeoutms: { ours: 'durationMs', policies: ['timeout'] },
  // bulkheads and limiters: Polly, p-limit, resilience4j
  maxparallelization: { ours: 'maxConcurrent', policies: ['bulkhead'] },
  maxconcurrentcalls: { ours: 'maxConcurrent', policies: ['bulkhead'] },
  concurrency: { ours: 'maxConcurrent', policies: ['bulkhead'] },
  permitlimit: { ours: 'maxConcurrent', policies: ['bulkhead'] },
  limit: { ours: 'maxConcurrent', policies: ['bulkhead'] },
  maxqueuingactions: { ours: 'maxQueue', policies: ['bulkhead'] },
  queuelimit: { ours: 'maxQueue', policies: ['bulkhead'] },
  maxwaitduration: { ours: 'queueTimeoutMs', policies: ['bulkhead'] },
  maxhedgedattempts: { ours: 'maxHedges', policies: ['hedge'] },
  ttl: { ours: 'ttlMs', policies: ['cache'] },
  max: { ours: 'maxEntries', policies: ['cache'] },
  maxsize: { ours: 'maxEntries', policies: ['cache'] },
};

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[t.length] ?? 0;
}

/** The known name nearest to `name`, when it is near enough to be a likely typo. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3))) return best;
  // A shared stem (`maxEntry` for `maxEntries`) or one name inside the other (`window` in `windowMs`).
  for (const k of known) {
    const kl = k.toLowerCase();
    let prefix = 0;
    while (prefix < kl.length && prefix < lower.length && kl[prefix] === lower[prefix]) prefix++;
    if (prefix >= Math.min(5, lower.length) && prefix >= 3) return k;
    if (lower.length >= 4 && (kl.includes(lower) || lower.includes(kl))) return k;
  }
  return undefined;
}

/**
 * Throws a `TypeError` for the first own enumerable key of `options` that is not in `known`:
 * `retry: unknown option "retries" (did you mean "maxAttempts"? maxAttempts counts the first
 * attempt too: retries + 1)`.
 */
export function checkKnown(
  policy: string,
  options: Readonly<Record<string, unknown>>,
  known: readonly string[],
  what = 'option',
): void {
  for (const name in options) {
    if (!Object.prototype.hasOwnProperty.call(options, name) || known.includes(name)) continue;
    throw new TypeError(`${policy}: unknown ${what} ${JSON.stringify(name)} (${suggest(policy, name, known)})`);
  }
}

function suggest(policy: string, name: string, known: readonly string[]): string {
  const foreign = FOREIGN[name.toLowerCase()];
  if (foreign !== undefined && (foreign.policies === undefined || foreign.policies.includes(policy))) {
    const ours = foreign.ours !== undefined && known.includes(foreign.ours) ? foreign.ours : undefined;
    if (ours !== undefined) return `did you mean ${JSON.stringify(ours)}?${foreign.note === undefined ? '' : ` ${foreign.note}`}`;
    if (foreign.note !== undefined) return foreign.note;
  }
  if (name.toLowerCase() === 'timeout') return TIMEOUT_HINT;
  const near = nearest(name, known);
  if (near !== undefined) return `did you mean ${JSON.stringify(near)}?`;
  return `known options: ${known.join(', ')}`;
}

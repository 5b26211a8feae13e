/**
 * Unknown options of `resilientFetch`: the house check, plus hints for the names users bring
 * along from other HTTP clients (ky, got, axios-retry).
 *
 * Internal: not exported from the package.
 * @module
 */
import { checkKnown } from '../known-options.js';

/** Names from other HTTP clients, with ours. */
const FOREIGN: Readonly<Record<string, string>> = {
  retry: 'standard.maxAttempts',
  retries: 'standard.maxAttempts',
  limit: 'standard.maxAttempts',
  timeout: 'standard.attemptTimeoutMs" or "standard.totalTimeoutMs',
  statuscodes: 'failureStatuses',
  retryoncodes: 'failureStatuses',
  methods: 'retryNonIdempotent',
  throwhttperrors: 'throwOnStatus',
};

/** Throws a `TypeError` for an option name not in `known`, naming the nearest known one. */
export function refuseUnknown(
  policy: string,
  options: Readonly<Record<string, unknown>>,
  known: readonly string[],
  what = 'option',
): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const ours = what === 'option' ? FOREIGN[name.toLowerCase()] : undefined;
    if (ours !== undefined) throw new TypeError(`${policy}: unknown option ${JSON.stringify(name)} (did you mean "${ours}"?)`);
  }
  checkKnown(policy, options, known, what);
}

/**
 * Option checks of `resilientFetch` beyond the house validators.
 *
 * @internal
 * @module
 */

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = row[j] as number;
      row[j] = Math.min(next + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = next;
    }
  }
  return row[b.length] as number;
}

/** Names from other HTTP clients, with ours. */
const FOREIGN: Readonly<Record<string, string>> = {
  retry: 'standard.maxAttempts',
  retries: 'standard.maxAttempts',
  limit: 'standard.maxAttempts',
  timeout: 'standard.attemptTimeoutMs or standard.totalTimeoutMs',
  statuscodes: 'failureStatuses',
  retryoncodes: 'failureStatuses',
  methods: 'retryNonIdempotent',
  throwhttperrors: 'throwOnStatus',
};

/** Throws a `TypeError` for an option name not in `known`, naming the nearest known one. */
export function refuseUnknown(policy: string, options: Readonly<Record<string, unknown>>, known: readonly string[], prefix = ''): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const foreign = FOREIGN[key.toLowerCase()];
    let hint = foreign === undefined ? '' : ` (did you mean "${foreign}"?)`;
    if (hint === '') {
      let best: string | undefined;
      let bestD = Infinity;
      for (const k of known) {
        const d = distance(key.toLowerCase(), k.toLowerCase());
        if (d < bestD) [best, bestD] = [k, d];
      }
      if (best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3))) hint = ` (did you mean "${prefix}${best}"?)`;
    }
    throw new TypeError(`${policy}: unknown option "${prefix}${key}"${hint}`);
  }
}

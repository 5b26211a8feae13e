/**
 * Options of `dashboard` and `serveDashboard`: validated once, then kept as a frozen copy.
 *
 * Internal: not exported from the package.
 * @module
 */
import { type Clock, isClock, systemClock } from '../clock.js';
import { checkKnown } from '../known-options.js';
import { num, optionsObject, rangeError, typeError } from '../validate.js';

/** What every dashboard option resolves to. @internal */
export interface ResolvedDashboardOptions {
  readonly token: string | undefined;
  readonly intervalMs: number;
  readonly maxConnections: number;
  readonly clock: Clock;
}

/** What `serveDashboard` adds. @internal */
export interface ResolvedServeOptions extends ResolvedDashboardOptions {
  readonly port: number;
  readonly host: string;
}

const DASHBOARD_OPTIONS = ['token', 'intervalMs', 'maxConnections', 'clock'] as const;
const SERVE_OPTIONS = [...DASHBOARD_OPTIONS, 'port', 'host'] as const;
function token(policy: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') typeError(policy, 'token', 'a string', value);
  // A bearer token travels in a header and a query string: visible ASCII only.
  if (!/^[\x21-\x7e]+$/.test(value)) rangeError(policy, 'token', 'a non-empty string of visible ASCII characters', value);
  return value;
}

function common(policy: string, o: Readonly<Record<string, unknown>>): ResolvedDashboardOptions {
  const clock = o['clock'];
  if (clock !== undefined && !isClock(clock)) {
    typeError(policy, 'clock', 'a Clock (an object with now, setTimeout and clearTimeout)', clock);
  }
  return {
    token: token(policy, o['token']),
    intervalMs: o['intervalMs'] === undefined ? 1000 : num(policy, 'intervalMs', o['intervalMs'], { min: 50, max: 3_600_000 }),
    maxConnections:
      o['maxConnections'] === undefined ? 10 : num(policy, 'maxConnections', o['maxConnections'], { min: 1, max: 100_000, integer: true }),
    clock: clock ?? systemClock,
  };
}

/** Validates `dashboard`'s options. @internal */
export function dashboardOptions(value: unknown): ResolvedDashboardOptions {
  const o = optionsObject('dashboard', value);
  checkKnown('dashboard', o, DASHBOARD_OPTIONS);
  return Object.freeze(common('dashboard', o));
}

/** Validates `serveDashboard`'s options. @internal */
export function serveOptions(value: unknown): ResolvedServeOptions {
  const o = optionsObject('serveDashboard', value);
  checkKnown('serveDashboard', o, SERVE_OPTIONS);
  const host = o['host'] === undefined ? '127.0.0.1' : o['host'];
  if (typeof host !== 'string') typeError('serveDashboard', 'host', 'a string', host);
  if (host.length === 0) rangeError('serveDashboard', 'host', 'a non-empty string', host);
  return Object.freeze({
    ...common('serveDashboard', o),
    port: o['port'] === undefined ? 0 : num('serveDashboard', 'port', o['port'], { min: 0, max: 65535, integer: true }),
    host,
  });
}

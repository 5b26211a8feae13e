/**
 * Option checks that produce the house error messages:
 * `timeout: durationMs must be a finite number >= 0, got -5`.
 *
 * `TypeError` for a value of the wrong type, `RangeError` for a value of the right type that is
 * out of range. Every message names the policy, the option and the value given.
 *
 * Internal: not exported from the package.
 * @module
 */

/** Renders a value for an error message: short, unambiguous, never throws. */
export function show(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${String(value)}n`;
    case 'function':
      return 'a function';
    case 'symbol':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      return 'an object';
  }
}

/** Throws a `TypeError` in the house format. */
export function typeError(policy: string, option: string, expected: string, value: unknown): never {
  throw new TypeError(`${policy}: ${option} must be ${expected}, got ${show(value)}`);
}

/** Throws a `RangeError` in the house format. */
export function rangeError(policy: string, option: string, expected: string, value: unknown): never {
  throw new RangeError(`${policy}: ${option} must be ${expected}, got ${show(value)}`);
}

/** Accepts `undefined` or a non-array object; returns it as a record for reading. */
export function optionsObject(policy: string, value: unknown, option = 'options'): Readonly<Record<string, unknown>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    typeError(policy, option, 'an object', value);
  }
  return value as Readonly<Record<string, unknown>>;
}

export interface NumberRule {
  /** Inclusive lower bound unless `minExclusive`. */
  readonly min?: number;
  readonly minExclusive?: boolean;
  /** Inclusive upper bound unless `maxExclusive`. */
  readonly max?: number;
  readonly maxExclusive?: boolean;
  /** Whole numbers only. */
  readonly integer?: boolean;
  /** `Infinity` is allowed (it always satisfies `max`-free rules). */
  readonly infinity?: boolean;
}

function describeRule(rule: NumberRule): string {
  const what = rule.integer ? 'an integer' : rule.infinity ? 'a number' : 'a finite number';
  const { min, max } = rule;
  if (min !== undefined && max !== undefined) {
    const lo = rule.minExclusive ? '(' : '[';
    const hi = rule.maxExclusive ? ')' : ']';
    // For example: `failureRateThreshold must be in (0, 1], got 1.5`.
    return `${rule.integer ? 'an integer ' : ''}in ${lo}${min}, ${max}${hi}`;
  }
  let text = what;
  if (min !== undefined) text += ` ${rule.minExclusive ? '>' : '>='} ${min}`;
  if (max !== undefined) text += ` ${rule.maxExclusive ? '<' : '<='} ${max}`;
  if (rule.infinity) text += ' (or Infinity)';
  return text;
}

/** Checks a required number against `rule`; returns it. */
export function num(policy: string, option: string, value: unknown, rule: NumberRule = {}): number {
  const expected = describeRule(rule);
  if (typeof value !== 'number') typeError(policy, option, expected, value);
  if (Number.isNaN(value)) rangeError(policy, option, expected, value);
  if (!Number.isFinite(value)) {
    if (!(rule.infinity && value === Infinity)) rangeError(policy, option, expected, value);
  } else if (rule.integer && !Number.isInteger(value)) {
    rangeError(policy, option, expected, value);
  }
  const { min, max } = rule;
  if (min !== undefined && (rule.minExclusive ? value <= min : value < min)) {
    rangeError(policy, option, expected, value);
  }
  if (max !== undefined && (rule.maxExclusive ? value >= max : value > max)) {
    rangeError(policy, option, expected, value);
  }
  return value;
}

/** Like {@link num}, but `undefined` gives `fallback`. */
export function optNum(
  policy: string,
  option: string,
  value: unknown,
  fallback: number,
  rule: NumberRule = {},
): number {
  return value === undefined ? fallback : num(policy, option, value, rule);
}

/** Checks an optional function. */
export function optFn<F extends (...args: never[]) => unknown>(
  policy: string,
  option: string,
  value: unknown,
): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') typeError(policy, option, 'a function', value);
  return value as F;
}

/** Checks an optional boolean. */
export function optBool(policy: string, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') typeError(policy, option, 'a boolean', value);
  return value;
}

/** Checks an optional string; an empty string is out of range. */
export function optStr(policy: string, option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') typeError(policy, option, 'a string', value);
  if (value.length === 0) rangeError(policy, option, 'a non-empty string', value);
  return value;
}

/** Checks that `value` is one of `choices` (strings). */
export function oneOf<C extends string>(
  policy: string,
  option: string,
  value: unknown,
  choices: readonly C[],
  fallback?: C,
): C {
  if (value === undefined && fallback !== undefined) return fallback;
  const expected = `one of ${choices.map((c) => `'${c}'`).join(', ')}`;
  if (typeof value !== 'string') typeError(policy, option, expected, value);
  if (!(choices as readonly string[]).includes(value)) rangeError(policy, option, expected, value);
  return value as C;
}

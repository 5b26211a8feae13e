// usePolicy compiled both ways: the fixture is transpiled by the TypeScript compiler as
// standard (TC39) decorators and as legacy experimentalDecorators, and the output is run
// against the package's source. A type check in both modes rejects a decorated method that
// returns no promise.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as breakwater from '../src/index.js';
import * as testing from '../src/testing/index.js';
import { usePolicy, retry, pipeline, fallback } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = join(root, 'test/fixtures/decorated-client.ts');

type Mode = 'standard' | 'legacy';
const MODES: Mode[] = ['standard', 'legacy'];

function load(mode: Mode): Record<string, unknown> {
  const out = ts.transpileModule(readFileSync(fixture, 'utf8'), {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      experimentalDecorators: mode === 'legacy',
      useDefineForClassFields: true,
    },
  }).outputText;
  // Tell the modes apart in the output: standard decorators go through __esDecorate.
  expect(out.includes('__esDecorate')).toBe(mode === 'standard');
  const exports: Record<string, unknown> = {};
  const req = (id: string): unknown => {
    if (id === 'breakwater') return breakwater;
    if (id === 'breakwater/testing') return testing;
    throw new Error(`unexpected import ${id}`);
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the compiler's output is the point
  new Function('require', 'exports', out)(req, exports);
  return exports;
}

interface Client {
  calls: number;
  readonly base: string;
  readonly breaker: breakwater.CircuitBreakerPolicy;
  get(id: string): Promise<string>;
  flaky(ok: boolean): Promise<string>;
  slow(id: string, signal?: AbortSignal): Promise<AbortSignal | undefined>;
  maybe(): Promise<string | null>;
}
type ClientClass = new (base: string, failFirst?: number) => Client;

describe.each(MODES)('usePolicy (%s decorators)', (mode) => {
  const m = load(mode);
  const UsersClient = m['UsersClient'] as ClientClass;
  const clock = m['clock'] as testing.ManualClock;
  const lookups = m['lookups'] as breakwater.CoalescePolicy;

  it('keeps this and the parameters, and runs the method under the policy (retries)', async () => {
    const c = new UsersClient('https://a.example', 2);
    const call = c.get('7');
    await clock.advance(10);
    await clock.advance(10);
    expect(await call).toBe('https://a.example/users/7');
    expect(c.calls).toBe(3);
  });

  it('a policy per instance is resolved once per instance', async () => {
    const a = new UsersClient('a');
    const b = new UsersClient('b');
    await expect(a.flaky(false)).rejects.toThrow('down');
    await expect(a.flaky(false)).rejects.toThrow('down');
    expect(a.breaker.state).toBe('open');
    await expect(a.flaky(true)).rejects.toMatchObject({ code: 'ECIRCUITOPEN' });
    // b's breaker is its own.
    expect(await b.flaky(true)).toBe('up');
    expect(b.breaker.state).toBe('closed');
  });

  it("key and signal 'last': concurrent calls share one run; the method gets the attempt's signal", async () => {
    const c = new UsersClient('x');
    const ctl = new AbortController();
    const [s1, s2] = await Promise.all([c.slow('1', ctl.signal), c.slow('1')]);
    expect(c.calls).toBe(1);
    expect(s1).toBeInstanceOf(AbortSignal);
    expect(s1).not.toBe(ctl.signal);
    expect(s2).toBe(s1);
    expect(lookups.inFlight).toBe(0);
  });

  it('a fallback answers for the method', async () => {
    expect(await new UsersClient('x').maybe()).toBeNull();
  });
});

describe('usePolicy called by hand', () => {
  it('the same decorator works on a legacy descriptor and a standard context', async () => {
    const d = usePolicy<{ v: string }>(pipeline(fallback('fb')));
    const method = async function (this: { v: string }): Promise<string> {
      return Promise.reject(new Error(this.v));
    };
    const desc = d({}, 'm', { value: method, writable: true, configurable: true, enumerable: false });
    expect(await (desc.value as typeof method).call({ v: 'x' })).toBe('fb');
    const ctx = { kind: 'method', name: 'm' } as unknown as ClassMethodDecoratorContext<{ v: string }, typeof method>;
    const replaced = d(method, ctx);
    expect(await replaced.call({ v: 'x' })).toBe('fb');
  });

  it('refuses what it cannot decorate, and bad options', () => {
    const d = usePolicy(retry());
    expect(() => d(async () => 1, { kind: 'field', name: 'f' } as never)).toThrow(/decorates methods only, got a field/);
    expect(() => d({}, 'x', { get: () => 1 } as never)).toThrow(/decorates methods only/);
    expect(() => usePolicy(5 as never)).toThrow(new TypeError('usePolicy: policy must be a policy or a function (self) => policy, got 5'));
    expect(() => usePolicy(retry as never)).toThrow(/did you mean retry\(\)\?/);
    expect(() => usePolicy(retry(), { keys: () => 'a' } as never)).toThrow(/usePolicy: unknown option "keys" \(did you mean "key"\?\)/);
    expect(() => usePolicy(retry(), { signal: 'first' as never })).toThrow(RangeError);
  });

  it('a policy function that returns no policy rejects the call', async () => {
    const d = usePolicy(() => 5 as never);
    const desc = d({}, 'm', { value: async () => 1, writable: true, configurable: true, enumerable: false });
    await expect((desc.value as () => Promise<number>).call({})).rejects.toThrow(/must return a policy, got 5/);
  });
});

describe('usePolicy types', () => {
  const bad = `
import { retry, usePolicy } from 'breakwater';
export class Bad {
  @usePolicy(retry())
  sync(): number {
    return 1;
  }
  @usePolicy(retry())
  async fine(id: string): Promise<number> {
    return id.length;
  }
  @usePolicy((self: Bad) => self.policy)
  async perInstance(): Promise<void> {}
  readonly policy = retry();
}
export const n: Promise<number> = new Bad().fine('x');
`;
  // Compiles TypeScript (seconds a run): not run per mutant by `npm run mutation`.
  it.skipIf(process.env.BREAKWATER_MUTATION === '1').each(MODES)('%s: a method that returns no promise is a type error; the others compile', (mode) => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-decorators-'));
    try {
      const file = join(dir, 'bad.ts');
      writeFileSync(file, bad);
      const program = ts.createProgram([file, fixture], {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        strict: true,
        exactOptionalPropertyTypes: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
        experimentalDecorators: mode === 'legacy',
        paths: {
          breakwater: [join(root, 'src/index.ts')],
          'breakwater/testing': [join(root, 'src/testing/index.ts')],
        },
      });
      const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file !== undefined && (d.file.fileName === file || d.file.fileName === fixture));
      const where = diags.map((d) => {
        const { line } = (d.file as ts.SourceFile).getLineAndCharacterOfPosition(d.start ?? 0);
        return `${(d.file as ts.SourceFile).fileName === file ? 'bad' : 'fixture'}:${line + 1}`;
      });
      // The only errors are at the decorator on sync() (line 4 of the snippet).
      expect(where.length).toBeGreaterThan(0);
      expect([...new Set(where)]).toEqual(['bad:4']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

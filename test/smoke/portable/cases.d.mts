// Types of cases.mjs for the TypeScript runners.
export interface Case {
  readonly name: string;
  run(entries: Record<string, unknown>): Promise<void>;
}
export interface CaseResult {
  readonly entry: string;
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly ms: number;
}
export declare const ENTRIES: ReadonlyArray<{ readonly entry: string; readonly cases: readonly Case[] }>;
export declare function runAll(entries: Record<string, unknown>): Promise<CaseResult[]>;

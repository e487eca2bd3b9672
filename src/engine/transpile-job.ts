/**
 * What the engine asks of its transpiler worker and what comes back (see transpiler.ts), and the
 * one function both sides run: adapt a preview1 module if need be, then transpile.
 */
import { wrapPreview1 } from './preview1.ts';
import { transpileComponent, type Transpiled } from './transpile.ts';

export interface TranspileJob {
  id: number;
  bytes: Uint8Array;
  kind: 'component' | 'core-module';
  source: string;
  instrument: boolean;
  /** False only in tests, to hand jco an input it panics on (see transpile.ts `checkFraming`). */
  checkFraming: boolean;
}

/** A thrown error as it crosses the thread boundary; rebuilt as the same class on the other side. */
export interface ThrownError {
  className: string;
  message: string;
  hint?: string;
}

export type TranspileReply =
  | { id: number; ok: true; glue: string; wit: string; coreModules: [string, Uint8Array][] }
  | { id: number; ok: false; error: ThrownError };

export async function runTranspileJob(job: Omit<TranspileJob, 'id'>): Promise<Transpiled> {
  const component = job.kind === 'core-module' ? await wrapPreview1(job.bytes, job.source) : job.bytes;
  return transpileComponent(component, job.source, { instrument: job.instrument, checkFraming: job.checkFraming });
}

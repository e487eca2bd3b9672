/**
 * What the engine asks of its transpiler worker and what comes back (see transpiler.ts), and the
 * one function the worker runs per job: read a component's world, or adapt a preview1 module if
 * need be and transpile.
 */
import { wrapPreview1 } from './preview1.ts';
import { readWit, transpileComponent } from './transpile.ts';

export interface TranspileOptions {
  bytes: Uint8Array;
  kind: 'component' | 'core-module';
  source: string;
  instrument: boolean;
  /** False only in tests, to hand jco an input it panics on (see transpile.ts `checkFraming`). */
  checkFraming: boolean;
}

export type TranspileJob = { id: number } & ({ op: 'transpile' } & TranspileOptions | { op: 'wit'; bytes: Uint8Array; source: string });

/** A thrown error as it crosses the thread boundary; rebuilt as the same class on the other side. */
export interface ThrownError {
  className: string;
  message: string;
  hint?: string;
}

/** A job's result in transferable form; `wit` jobs carry no glue or modules. */
export interface TranspileResult {
  wit: string;
  glue?: string;
  coreModules?: [string, Uint8Array][];
}

export type TranspileReply = ({ id: number; ok: true } & TranspileResult) | { id: number; ok: false; error: ThrownError };

export async function runTranspileJob(job: TranspileJob): Promise<TranspileResult> {
  if (job.op === 'wit') return { wit: await readWit(job.bytes, job.source) };
  const component = job.kind === 'core-module' ? await wrapPreview1(job.bytes, job.source) : job.bytes;
  const out = await transpileComponent(component, job.source, { instrument: job.instrument, checkFraming: job.checkFraming });
  // A copy in a buffer of its own: jco's outputs may sit in Node's untransferable Buffer pool.
  return { wit: out.wit, glue: out.glue, coreModules: [...out.coreModules].map(([name, data]) => [name, new Uint8Array(data)]) };
}

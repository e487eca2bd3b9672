/**
 * The engine's heavy, input-driven work on a new binary, done off the host's thread (see
 * preparer.ts): a WASI preview1 module is wrapped into a component with the preview1 adapter (jco's
 * wit-component, as a tool), and every core module of the component is instrumented for limits.
 * What comes back is what the disk cache keeps.
 */
import { InvalidComponentError } from '../errors.ts';
import { decodeComponent } from './component/decode.ts';
import { instrumentModule } from './limits/instrument.ts';
import { wrapPreview1 } from './preview1.ts';

export interface PrepareOptions {
  bytes: Uint8Array;
  kind: 'component' | 'core-module';
  source: string;
  instrument: boolean;
}

export type PrepareJob = { id: number } & PrepareOptions;

/** A thrown error as it crosses the thread boundary; rebuilt as the same class on the other side. */
export interface ThrownError {
  className: string;
  message: string;
  hint?: string;
}

export interface Prepared {
  /** The component: the input itself, or the preview1 module wrapped into one. */
  component: Uint8Array;
  /** Its core modules in binary order, instrumented unless told not to. */
  modules: Uint8Array[];
}

export type PrepareReply = ({ id: number; ok: true } & Prepared) | { id: number; ok: false; error: ThrownError };

export async function prepare(job: PrepareOptions): Promise<Prepared> {
  const component = job.kind === 'core-module' ? await wrapPreview1(job.bytes, job.source) : job.bytes;
  let modules: Uint8Array[];
  try {
    ({ modules } = decodeComponent(component));
  } catch (err) {
    if (err instanceof InvalidComponentError) err.message = `${job.source} is not a valid component: ${err.message}`;
    throw err;
  }
  return {
    // Copies in buffers of their own: they are transferred to the engine's thread, and a
    // rewritten module may sit in Node's (untransferable) Buffer pool.
    component: new Uint8Array(component),
    modules: modules.map((m, i) => new Uint8Array(job.instrument ? instrument(m, i, job.source) : m)),
  };
}

/** Every core module is instrumented once, here, so the disk cache holds the result. */
function instrument(bytes: Uint8Array, index: number, source: string): Uint8Array {
  try {
    return instrumentModule(bytes);
  } catch (err) {
    throw new InvalidComponentError(`${source}: core module ${index} cannot be instrumented for limits: ${(err as Error).message}`, { cause: err });
  }
}

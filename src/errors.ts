/**
 * Coded errors (after undici's `lib/core/errors.js`): one base class with a stable `code`,
 * one subclass per failure, `cause` passed through. Guest-visible WIT errors are not these:
 * they are the plain values the WASI and plugin implementations throw for jco to lower.
 */
export class WasmhostError extends Error {
  readonly code: string = 'WASMHOST_ERROR';
  /** A short suggestion printed by the CLI after the message. */
  hint?: string;
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.hint) this.hint = options.hint;
  }
}

/** The bytes are not a WebAssembly binary at all. */
export class NotWasmError extends WasmhostError {
  override readonly code = 'WASMHOST_NOT_WASM';
}

/** A Wasm binary that fails to decode or validate (truncated, corrupt, unsupported). */
export class InvalidComponentError extends WasmhostError {
  override readonly code = 'WASMHOST_INVALID_COMPONENT';
}

/**
 * A valid component that uses something wasmhost cannot run yet (the async ABI, value imports,
 * a component-level start function); the message names the construct.
 */
export class UnsupportedComponentError extends WasmhostError {
  override readonly code = 'WASMHOST_UNSUPPORTED_COMPONENT';
}

/** The components of a workload cannot be linked: a cycle, or two exporters of one import. */
export class LinkError extends WasmhostError {
  override readonly code = 'WASMHOST_LINK_ERROR';
}

/** A core module that cannot run as a WASI command (imports something other than wasi_snapshot_preview1). */
export class UnsupportedModuleError extends WasmhostError {
  override readonly code = 'WASMHOST_UNSUPPORTED_MODULE';
}

/** The component imports an interface (or a function of one) that nobody provides. */
export class MissingImportError extends WasmhostError {
  override readonly code = 'WASMHOST_MISSING_IMPORT';
  readonly interfaceName: string;
  constructor(interfaceName: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options);
    this.interfaceName = interfaceName;
  }
}

/** A call to an export that the component does not have. */
export class MissingExportError extends WasmhostError {
  override readonly code = 'WASMHOST_MISSING_EXPORT';
}

/** The guest trapped (unreachable, out-of-bounds access, stack exhaustion, ...). */
export class TrapError extends WasmhostError {
  override readonly code = 'WASMHOST_TRAP';
}

/** The instance ended by calling `wasi:cli/exit`; `exitCode` is what it asked for. */
export class ExitError extends WasmhostError {
  override readonly code = 'WASMHOST_EXIT';
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`guest exited with code ${exitCode}`);
    this.exitCode = exitCode;
  }
}

/** The instance is no longer usable: it exited or trapped earlier. */
export class InstanceClosedError extends WasmhostError {
  override readonly code = 'WASMHOST_INSTANCE_CLOSED';
}

/** A limit (memory, time, handles, concurrency) stopped the guest. */
export class LimitExceededError extends WasmhostError {
  override readonly code = 'WASMHOST_LIMIT_EXCEEDED';
  readonly limit: string;
  constructor(limit: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options);
    this.limit = limit;
  }
}

/** Bad input from a user: a flag, a path, an argument. */
export class UsageError extends WasmhostError {
  override readonly code = 'WASMHOST_USAGE';
}

/** One problem in a workload manifest: where (the field's path as written) and what. */
export interface ManifestIssue {
  /** `witWorld.components[1].localResources.memoryLimitMb`; empty for the document as a whole. */
  path: string;
  message: string;
  /** 1-based position in the manifest text, when the workload came from one. */
  line?: number;
  column?: number;
}

/** A workload (a manifest file, or one given in code or over the wire) that fails validation. Lists every problem. */
export class ManifestError extends WasmhostError {
  override readonly code = 'WASMHOST_INVALID_MANIFEST';
  readonly issues: readonly ManifestIssue[];
  constructor(issues: ManifestIssue[], options?: { source?: string; cause?: unknown; hint?: string }) {
    const where = (i: ManifestIssue) => (i.line === undefined ? '' : ` (line ${i.line}, column ${i.column})`);
    const lines = issues.map((i) => `\n  ${i.path ? `${i.path}: ` : ''}${i.message}${where(i)}`);
    super(`invalid workload${options?.source ? ` in ${options.source}` : ''}:${lines.join('')}`, options);
    this.issues = issues;
  }
}

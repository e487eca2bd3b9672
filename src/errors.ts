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

/** The disk cache holds an entry that fails its integrity check. Handled inside the engine. */
export class CacheCorruptError extends WasmhostError {
  override readonly code = 'WASMHOST_CACHE_CORRUPT';
}

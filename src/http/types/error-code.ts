/**
 * `wasi:http/types.error-code` as jco values (`{tag, val}`), and the mapping from the errors
 * Node and undici raise to them, so a guest sees *why* a request failed, never a trap.
 */
import { IoError } from '../../wasi/io/error.ts';

export type ErrorCode =
  | { tag: 'DNS-timeout' }
  | { tag: 'DNS-error'; val: { rcode?: string; infoCode?: number } }
  | { tag: 'destination-not-found' }
  | { tag: 'destination-unavailable' }
  | { tag: 'destination-IP-prohibited' }
  | { tag: 'destination-IP-unroutable' }
  | { tag: 'connection-refused' }
  | { tag: 'connection-terminated' }
  | { tag: 'connection-timeout' }
  | { tag: 'connection-read-timeout' }
  | { tag: 'connection-write-timeout' }
  | { tag: 'connection-limit-reached' }
  | { tag: 'TLS-protocol-error' }
  | { tag: 'TLS-certificate-error' }
  | { tag: 'HTTP-request-denied' }
  | { tag: 'HTTP-request-body-size'; val?: bigint }
  | { tag: 'HTTP-request-method-invalid' }
  | { tag: 'HTTP-request-URI-invalid' }
  | { tag: 'HTTP-response-incomplete' }
  | { tag: 'HTTP-response-body-size'; val?: bigint }
  | { tag: 'HTTP-response-timeout' }
  | { tag: 'HTTP-protocol-error' }
  | { tag: 'internal-error'; val?: string }
  | { tag: string; val?: unknown };

/** An error that already knows its `error-code` (our own bodies and the outgoing handler raise these). */
export class HttpError extends Error {
  readonly errorCode: ErrorCode;
  constructor(errorCode: ErrorCode, message = errorCode.tag) {
    super(message);
    this.errorCode = errorCode;
  }
}

const BY_CODE: Record<string, ErrorCode> = {
  ECONNREFUSED: { tag: 'connection-refused' },
  ECONNRESET: { tag: 'connection-terminated' },
  EPIPE: { tag: 'connection-terminated' },
  UND_ERR_SOCKET: { tag: 'connection-terminated' },
  UND_ERR_CLOSED: { tag: 'connection-terminated' },
  ETIMEDOUT: { tag: 'connection-timeout' },
  UND_ERR_CONNECT_TIMEOUT: { tag: 'connection-timeout' },
  UND_ERR_HEADERS_TIMEOUT: { tag: 'connection-read-timeout' },
  UND_ERR_BODY_TIMEOUT: { tag: 'connection-read-timeout' },
  EHOSTUNREACH: { tag: 'destination-unavailable' },
  ENETUNREACH: { tag: 'destination-IP-unroutable' },
  EAI_AGAIN: { tag: 'DNS-timeout' },
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: { tag: 'HTTP-response-incomplete' },
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: { tag: 'HTTP-request-body-size' },
  HPE_INVALID_CONSTANT: { tag: 'HTTP-protocol-error' },
  UND_ERR_INVALID_ARG: { tag: 'HTTP-request-URI-invalid' },
};

/** The `error-code` for any error met while sending a request or reading a response. */
export function toErrorCode(err: unknown): ErrorCode {
  if (err instanceof HttpError) return err.errorCode;
  const e = err as { code?: string; message?: string; cause?: unknown } | null;
  const code = e?.code ?? '';
  if (BY_CODE[code]) return BY_CODE[code];
  if (code === 'ENOTFOUND' || code === 'EAI_NONAME' || code === 'EAI_NODATA') return { tag: 'DNS-error', val: { rcode: code, infoCode: undefined } };
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/.test(code)) return { tag: 'TLS-certificate-error' };
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return { tag: 'TLS-protocol-error' };
  if (code.startsWith('HPE_')) return { tag: 'HTTP-protocol-error' };
  if (e?.cause && e.cause !== err) {
    const inner = toErrorCode(e.cause);
    if (inner.tag !== 'internal-error') return inner;
  }
  return { tag: 'internal-error', val: e?.message ?? String(err) };
}

/** `http-error-code(err: borrow<io-error>)`: what an HTTP body stream's failure was, if it was one. */
export function httpErrorCode(err: IoError): ErrorCode | undefined {
  if (!(err instanceof IoError) || err.cause === undefined) return undefined;
  return toErrorCode(err.cause);
}

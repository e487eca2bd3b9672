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

/**
 * HTTP/2 error codes (RFC 9113 section 7) of a RST_STREAM or GOAWAY, as undici reports them
 * (`http2ErrorCode`). NO_ERROR (0) is not a failure and falls through to the error's own code.
 */
const BY_HTTP2_CODE: Record<number, ErrorCode> = {
  0x1: { tag: 'HTTP-protocol-error' }, // PROTOCOL_ERROR
  0x2: { tag: 'HTTP-protocol-error' }, // INTERNAL_ERROR
  0x3: { tag: 'HTTP-protocol-error' }, // FLOW_CONTROL_ERROR
  0x4: { tag: 'connection-timeout' }, // SETTINGS_TIMEOUT
  0x5: { tag: 'HTTP-protocol-error' }, // STREAM_CLOSED
  0x6: { tag: 'HTTP-protocol-error' }, // FRAME_SIZE_ERROR
  0x7: { tag: 'connection-limit-reached' }, // REFUSED_STREAM (undici retries it once first)
  0x8: { tag: 'connection-terminated' }, // CANCEL
  0x9: { tag: 'HTTP-protocol-error' }, // COMPRESSION_ERROR
  0xa: { tag: 'connection-terminated' }, // CONNECT_ERROR
  0xb: { tag: 'connection-limit-reached' }, // ENHANCE_YOUR_CALM
  0xc: { tag: 'TLS-protocol-error' }, // INADEQUATE_SECURITY
  0xd: { tag: 'HTTP-protocol-error' }, // HTTP_1_1_REQUIRED
};

/** The `error-code` for any error met while sending a request or reading a response. */
export function toErrorCode(err: unknown): ErrorCode {
  if (err instanceof HttpError) return err.errorCode;
  const e = err as { code?: string; message?: string; cause?: unknown; http2ErrorCode?: number } | null;
  const code = e?.code ?? '';
  if (e?.http2ErrorCode && BY_HTTP2_CODE[e.http2ErrorCode]) return BY_HTTP2_CODE[e.http2ErrorCode];
  if (BY_CODE[code]) return BY_CODE[code];
  // Node's HTTP/2 session: a peer that broke the protocol (one that does not speak HTTP/2 at all
  // answers the connection preface with an HTTP/1.1 error page, which nghttp2 cannot parse).
  if (code === 'ERR_HTTP2_ERROR' || code === 'ERR_HTTP2_SESSION_ERROR' || code === 'ERR_HTTP2_STREAM_ERROR') return { tag: 'HTTP-protocol-error' };
  if (code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION') return { tag: 'connection-terminated' };
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

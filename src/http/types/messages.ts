/**
 * The request and response resources of `wasi:http/types`. The host creates incoming requests
 * (from Node's server) and incoming responses (from undici); guests create outgoing ones.
 * Headers handed to a request or response become immutable, and every `headers()` call returns a
 * fresh immutable handle on them (jco would otherwise hand the guest one object twice).
 */
import type { Pollable } from '../../wasi/io/poll.ts';
import { BodySink, IncomingBody, Later, NO_PAYLOAD, OutgoingBody, type IncomingBodySource } from './body.ts';
import type { ErrorCode } from './error-code.ts';
import { TOKEN, type Fields } from './fields.ts';

export type Method = { tag: 'get' | 'head' | 'post' | 'put' | 'delete' | 'connect' | 'options' | 'trace' | 'patch' } | { tag: 'other'; val: string };
export type Scheme = { tag: 'HTTP' } | { tag: 'HTTPS' } | { tag: 'other'; val: string };

const KNOWN_METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

export function toMethod(name: string): Method {
  const lower = name.toLowerCase();
  return KNOWN_METHODS.has(lower) && name === name.toUpperCase() ? ({ tag: lower } as Method) : { tag: 'other', val: name };
}

export function methodName(method: Method): string {
  return method.tag === 'other' ? method.val : method.tag.toUpperCase();
}

/** The value of `content-length` when it is a plain number (it decides how long a body must be). */
function contentLength(headers: Fields): number | undefined {
  const value = headers.first('content-length');
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

export interface IncomingRequestInit {
  method: string;
  pathWithQuery: string;
  scheme: 'http' | 'https';
  authority: string | undefined;
  headers: Fields;
  /** Called once, when the guest consumes the body (most requests never do: no listeners for them). */
  body: () => IncomingBodySource;
}

export class IncomingRequest {
  readonly #init: IncomingRequestInit;
  #consumed = false;

  /** @internal */
  constructor(init: IncomingRequestInit) {
    this.#init = init;
  }

  method(): Method {
    return toMethod(this.#init.method);
  }
  pathWithQuery(): string | undefined {
    return this.#init.pathWithQuery;
  }
  scheme(): Scheme {
    return this.#init.scheme === 'https' ? { tag: 'HTTPS' } : { tag: 'HTTP' };
  }
  authority(): string | undefined {
    return this.#init.authority;
  }
  headers(): Fields {
    return this.#init.headers.freeze();
  }
  consume(): IncomingBody {
    if (this.#consumed) throw NO_PAYLOAD;
    this.#consumed = true;
    return new IncomingBody(this.#init.body());
  }
}

export class OutgoingResponse {
  #status = 200;
  readonly #headers: Fields;
  #body: OutgoingBody | undefined;

  constructor(headers: Fields) {
    this.#headers = headers.freeze();
  }

  statusCode(): number {
    return this.#status;
  }
  setStatusCode(status: number): void {
    if (status < 100 || status > 599) throw NO_PAYLOAD;
    this.#status = status;
  }
  headers(): Fields {
    return this.#headers.freeze();
  }
  body(): OutgoingBody {
    if (this.#body) throw NO_PAYLOAD;
    this.#body = new OutgoingBody(new BodySink(contentLength(this.#headers), 'response'));
    return this.#body;
  }

  /** @internal What the server sends: status, headers, and the body's sink (created if the guest never asked). */
  parts(): { status: number; headers: Fields; sink: BodySink; bodyTaken: boolean } {
    const bodyTaken = this.#body !== undefined;
    const sink = (this.#body ??= new OutgoingBody(new BodySink(contentLength(this.#headers), 'response'))).sink;
    return { status: this.#status, headers: this.#headers, sink, bodyTaken };
  }
}

/** `response-outparam`: the one way a guest answers; the server acts on the first `set`. */
export class ResponseOutparam {
  readonly #onSet: (response: OutgoingResponse | ErrorCode) => void;
  #set = false;

  /** @internal */
  constructor(onSet: (response: OutgoingResponse | ErrorCode) => void) {
    this.#onSet = onSet;
  }

  sendInformational(): void {
    throw { tag: 'internal-error', val: 'informational responses are not supported' } satisfies ErrorCode;
  }

  static set(param: ResponseOutparam, response: { tag: 'ok'; val: OutgoingResponse } | { tag: 'err'; val: ErrorCode }): void {
    // An Error (not a plain value) traps the guest: setting twice is a bug in the guest.
    if (param.#set) throw new Error('response-outparam.set called twice');
    param.#set = true;
    param.#onSet(response.val);
  }
}

export class RequestOptions {
  connect: bigint | undefined;
  firstByte: bigint | undefined;
  betweenBytes: bigint | undefined;

  connectTimeout(): bigint | undefined {
    return this.connect;
  }
  setConnectTimeout(d: bigint | undefined): void {
    this.connect = d;
  }
  firstByteTimeout(): bigint | undefined {
    return this.firstByte;
  }
  setFirstByteTimeout(d: bigint | undefined): void {
    this.firstByte = d;
  }
  betweenBytesTimeout(): bigint | undefined {
    return this.betweenBytes;
  }
  setBetweenBytesTimeout(d: bigint | undefined): void {
    this.betweenBytes = d;
  }
}

/** `authority` = host and optional port: no userinfo, path, or whitespace. */
const AUTHORITY = /^(\[[0-9a-fA-F:.]+\]|[^\s/?#@[\]:]+)(:\d{1,5})?$/;

export class OutgoingRequest {
  #method: Method = { tag: 'get' };
  #pathWithQuery: string | undefined;
  #scheme: Scheme | undefined;
  #authority: string | undefined;
  readonly #headers: Fields;
  #body: OutgoingBody | undefined;

  constructor(headers: Fields) {
    this.#headers = headers.freeze();
  }

  body(): OutgoingBody {
    if (this.#body) throw NO_PAYLOAD;
    this.#body = new OutgoingBody(new BodySink(contentLength(this.#headers), 'request'));
    return this.#body;
  }
  method(): Method {
    return this.#method;
  }
  setMethod(method: Method): void {
    if (method.tag === 'other' && !TOKEN.test(method.val)) throw NO_PAYLOAD;
    this.#method = method;
  }
  pathWithQuery(): string | undefined {
    return this.#pathWithQuery;
  }
  setPathWithQuery(path: string | undefined): void {
    if (path !== undefined && (/[\s#]/.test(path) || !(path.startsWith('/') || path.startsWith('?') || path === '*'))) throw NO_PAYLOAD;
    this.#pathWithQuery = path;
  }
  scheme(): Scheme | undefined {
    return this.#scheme;
  }
  setScheme(scheme: Scheme | undefined): void {
    if (scheme?.tag === 'other' && !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(scheme.val)) throw NO_PAYLOAD;
    this.#scheme = scheme;
  }
  authority(): string | undefined {
    return this.#authority;
  }
  setAuthority(authority: string | undefined): void {
    if (authority !== undefined && !AUTHORITY.test(authority)) throw NO_PAYLOAD;
    this.#authority = authority;
  }
  headers(): Fields {
    return this.#headers.freeze();
  }

  /** @internal What the outgoing handler sends. */
  parts(): { method: Method; scheme: Scheme | undefined; authority: string | undefined; pathWithQuery: string | undefined; headers: Fields; body: OutgoingBody | undefined } {
    return { method: this.#method, scheme: this.#scheme, authority: this.#authority, pathWithQuery: this.#pathWithQuery, headers: this.#headers, body: this.#body };
  }
}

export class IncomingResponse {
  readonly #status: number;
  readonly #headers: Fields;
  readonly #body: IncomingBodySource;
  #consumed = false;

  /** @internal */
  constructor(status: number, headers: Fields, body: IncomingBodySource) {
    this.#status = status;
    this.#headers = headers;
    this.#body = body;
  }

  status(): number {
    return this.#status;
  }
  headers(): Fields {
    return this.#headers.freeze();
  }
  consume(): IncomingBody {
    if (this.#consumed) throw NO_PAYLOAD;
    this.#consumed = true;
    return new IncomingBody(this.#body);
  }
}

export class FutureIncomingResponse {
  readonly #later: Later<IncomingResponse>;

  /** @internal */
  constructor(response: Promise<IncomingResponse>) {
    this.#later = new Later(response);
  }
  subscribe(): Pollable {
    return this.#later.subscribe();
  }
  get() {
    return this.#later.get();
  }
}

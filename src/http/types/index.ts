import { FutureTrailers, IncomingBody, OutgoingBody } from './body.ts';
import { httpErrorCode } from './error-code.ts';
import { Fields } from './fields.ts';
import { FutureIncomingResponse, IncomingRequest, IncomingResponse, OutgoingRequest, OutgoingResponse, RequestOptions, ResponseOutparam } from './messages.ts';

/** `wasi:http/types`: resource classes shared by every instance (state lives in the objects). */
export const httpTypes = {
  Fields,
  IncomingRequest,
  OutgoingRequest,
  RequestOptions,
  ResponseOutparam,
  IncomingResponse,
  IncomingBody,
  FutureTrailers,
  OutgoingResponse,
  OutgoingBody,
  FutureIncomingResponse,
  httpErrorCode,
};

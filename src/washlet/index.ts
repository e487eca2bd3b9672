/** The cluster host over NATS (the reference's washlet). */
export { Washlet, HOST_GROUP_LABEL, DEFAULT_HOST_GROUP, DEFAULT_HEARTBEAT_INTERVAL_MS, type WashletOptions, type WashletHost, type Answer } from './washlet.ts';
export { connectNats, type NatsConnectOptions } from './connect.ts';
export { COMMANDS, HOST_API_PREFIX, OPERATOR_API_PREFIX, hostSubject, rpcSubject, heartbeatSubject, checkHostId, type Command } from './subjects.ts';
export { heartbeatJson, workloadStatusJson, workloadResponseJson, witInterfaceJson, rfc3339, encode } from './wire.ts';
export { decodeStartRequest, decodeIdRequest, InvalidRequestError, type StartRequest } from './requests.ts';
export { pullImages, PullError } from './pull.ts';

/**
 * The typed, versioned, validated messages between the VM manager and its drivers, and the
 * transports that carry them (in-process, worker MessagePort, JSON-RPC 2.0 over a byte stream).
 *
 * @packageDocumentation
 */
export { decodeBase64, encodeBase64 } from './base64.js';
export { ProtocolClient, sendEvent, serveCommands } from './endpoint.js';
export type { CommandHandler } from './endpoint.js';
export { ERROR_CODES, HTTP_STATUS, VmError, isErrorCode } from './errors.js';
export type { ErrorCode, ErrorPayload } from './errors.js';
export { FrameDecoder, JSON_RPC_ERROR, JsonRpcStreamTransport, encodeFrame, fromJsonRpc, toJsonRpc } from './json-rpc.js';
export type { ByteStreamLike } from './json-rpc.js';
export { MAX_CONSOLE_CHUNK_BYTES, MAX_MEMORY_MIB, MAX_MESSAGE_BYTES, MIN_MEMORY_MIB, PROTOCOL_VERSION } from './limits.js';
export { LEGAL_STATES, isLegal } from './messages.js';
export type {
  Command, CommandMessage, CommandName, CommandPrecondition, DiskConfig, ErrorMessage, EventMessage, Message,
  NetConfig, ReplyMessage, VmConfig, VmEvent, VmInfo,
} from './messages.js';
export { CommandSchema, DiskConfigSchema, EventSchema, MessageSchema, NetConfigSchema, VmConfigSchema, VmIdSchema, VmInfoSchema } from './schemas.js';
export { TRANSITIONS, VM_STATES, nextState } from './states.js';
export type { LifecycleAction, VmState } from './states.js';
export { BaseTransport, InProcessTransport, MessagePortTransport } from './transport.js';
export type { MessagePortLike, Transport } from './transport.js';
export { decodeMessage, encodeMessage, parseMessage, parseWith, validateWith } from './validate.js';
export type { StandardResult, StandardSchemaV1 } from './validate.js';

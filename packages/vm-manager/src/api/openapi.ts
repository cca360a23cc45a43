/**
 * The OpenAPI 3.1 document of the multi-VM API, generated from the protocol's schemas so the
 * document, the validation and the TypeScript types all come from one source.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { ERROR_CODES, VM_STATES, VmConfigSchema, VmInfoSchema } from '@typevisor/vm-protocol';
import { ActionRequestSchema, CreateVmRequestSchema, RestoreRequestSchema, SnapshotRequestSchema } from './requests.js';

function schema(s: v.GenericSchema): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = toJsonSchema(s, { errorMode: 'ignore' }) as Record<string, unknown>;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ content: { 'application/json': { schema: ref(name) } } });
const errorResponses = {
  '4XX': { description: 'The request was refused; nothing changed.', ...json('Error') },
  '5XX': { description: 'typevisor failed.', ...json('Error') },
};
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } }];

/** Builds the OpenAPI document. */
export function managerOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'typevisor VM manager API', version: '1', description: 'Create and control many VMs; each runs in its own worker.' },
    paths: {
      '/v1/vms': {
        get: { operationId: 'listVms', summary: 'List VMs', responses: { 200: { description: 'Every VM', content: { 'application/json': { schema: { type: 'array', items: ref('VmInfo') } } } }, ...errorResponses } },
        post: { operationId: 'createVm', summary: 'Create a VM (state: created)', requestBody: { required: true, ...json('CreateVmRequest') }, responses: { 201: { description: 'Created', ...json('VmInfo') }, ...errorResponses } },
      },
      '/v1/vms/restore': {
        post: { operationId: 'restoreVm', summary: 'Create a VM from a snapshot file (state: paused)', requestBody: { required: true, ...json('RestoreRequest') }, responses: { 201: { description: 'Restored', ...json('VmInfo') }, ...errorResponses } },
      },
      '/v1/vms/{id}': {
        parameters: idParam,
        get: { operationId: 'inspectVm', summary: 'Inspect a VM', responses: { 200: { description: 'The VM', ...json('VmInfo') }, ...errorResponses } },
        delete: { operationId: 'deleteVm', summary: 'Delete a VM in any state', responses: { 204: { description: 'Deleted' }, ...errorResponses } },
      },
      '/v1/vms/{id}/actions': {
        parameters: idParam,
        post: { operationId: 'actOnVm', summary: 'start, pause, resume, stop, reboot or sendCtrlAltDel', requestBody: { required: true, ...json('ActionRequest') }, responses: { 200: { description: 'The VM after the action', ...json('VmInfo') }, ...errorResponses } },
      },
      '/v1/vms/{id}/snapshot': {
        parameters: idParam,
        post: { operationId: 'snapshotVm', summary: 'Write a snapshot of a paused VM', requestBody: { required: true, ...json('SnapshotRequest') }, responses: { 200: { description: 'Written', content: { 'application/json': { schema: { type: 'object', properties: { path: { type: 'string' }, bytes: { type: 'integer' } } } } } }, ...errorResponses } },
      },
      '/v1/vms/{id}/console': {
        parameters: [...idParam, { name: 'write', in: 'query', schema: { type: 'string', enum: ['1'] } }],
        get: { operationId: 'attachConsole', summary: 'Attach to the console: send "Upgrade: typevisor-console"; raw bytes flow both ways', responses: { 101: { description: 'Switched to the console byte stream' }, ...errorResponses } },
      },
      '/v1/events': {
        get: { operationId: 'streamEvents', summary: 'Newline-delimited JSON events of every VM', responses: { 200: { description: 'Event stream', content: { 'application/x-ndjson': { schema: { type: 'object' } } } } } },
      },
    },
    components: {
      schemas: {
        VmConfig: schema(VmConfigSchema),
        VmInfo: schema(VmInfoSchema),
        VmState: { type: 'string', enum: [...VM_STATES] },
        CreateVmRequest: schema(CreateVmRequestSchema),
        ActionRequest: schema(ActionRequestSchema),
        SnapshotRequest: schema(SnapshotRequestSchema),
        RestoreRequest: schema(RestoreRequestSchema),
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', enum: [...ERROR_CODES] }, message: { type: 'string' } } } },
        },
      },
    },
  };
}

/** The request bodies of the multi-VM HTTP API. */
import * as v from 'valibot';
import { VmConfigSchema, VmIdSchema } from '@typevisor/vm-protocol';

/** Body of `POST /v1/vms`. */
export const CreateVmRequestSchema = v.strictObject({ id: VmIdSchema, config: VmConfigSchema });
/** Body of `POST /v1/vms/{id}/actions`. */
export const ActionRequestSchema = v.strictObject({ action: v.picklist(['start', 'pause', 'resume', 'stop', 'reboot', 'sendCtrlAltDel']) });
/** Body of `POST /v1/vms/{id}/snapshot`. */
export const SnapshotRequestSchema = v.strictObject({ path: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)) });
/** Body of `POST /v1/vms/restore`. */
export const RestoreRequestSchema = v.strictObject({ id: VmIdSchema, path: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)) });


/** @packageDocumentation Node.js backends for the machine. */
export const NODE_BACKENDS = true;

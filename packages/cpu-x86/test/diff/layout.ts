/**
 * Guest address layout shared by the native runner (native/runner.c) and the interpreter runner.
 * Both sides see the same guest addresses: the data page, the stack page right after it, and the
 * code page. Change these only together with the #defines in native/runner.c.
 */
export const DATA_START = 0x1000;
export const DATA_SIZE = 0x1000;
export const STACK_START = 0x2000;
export const STACK_SIZE = 0x1000;
/** Data + stack pages: every byte in here is compared after each case. */
export const REGION_START = DATA_START;
export const REGION_SIZE = DATA_SIZE + STACK_SIZE;
export const REGION_END = REGION_START + REGION_SIZE;
export const CODE_ADDR = 0x30000;
/** Interpreter RAM: enough to hold the code page. */
export const INTERPRETER_RAM_SIZE = 0x40000;

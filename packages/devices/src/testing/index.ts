/**
 * Test kit: a fake guest driver for testing devices alone.
 * @packageDocumentation
 */
export {};

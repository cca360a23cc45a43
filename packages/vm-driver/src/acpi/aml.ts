/**
 * A tiny AML (ACPI Machine Language) encoder: just the objects the microVM's DSDT needs. Each function
 * returns the encoded bytes of one term, so a table reads like the ASL it stands for.
 */

/** AML opcodes used here (ACPI specification, "ACPI Machine Language Specification"). */
export const AmlOp = {
  zero: 0x00,
  one: 0x01,
  name: 0x08,
  bytePrefix: 0x0a,
  wordPrefix: 0x0b,
  dwordPrefix: 0x0c,
  stringPrefix: 0x0d,
  scope: 0x10,
  buffer: 0x11,
  package: 0x12,
  extPrefix: 0x5b,
  device: 0x82,
  rootChar: 0x5c,
} as const;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Encodes a PkgLength for a body of `bodyLength` bytes; the encoded length counts itself. */
export function pkgLength(bodyLength: number): Uint8Array {
  for (let extra = 0; extra < 4; extra++) {
    const total = bodyLength + 1 + extra;
    if (extra === 0 && total < 0x40) return Uint8Array.of(total);
    if (extra > 0 && total < 2 ** (4 + 8 * extra)) {
      const out = new Uint8Array(1 + extra);
      out[0] = (extra << 6) | (total & 0x0f);
      for (let i = 1; i <= extra; i++) out[i] = (total >>> (4 + 8 * (i - 1))) & 0xff;
      return out;
    }
  }
  throw new RangeError(`AML package of ${bodyLength} bytes is too large`);
}

/** A NameString: an optional leading `\`, then dot-separated 4-character segments (padded with `_`). */
export function nameString(path: string): Uint8Array {
  const rooted = path.startsWith('\\');
  const segments = (rooted ? path.slice(1) : path).split('.').filter((s) => s !== '');
  const bytes: number[] = rooted ? [AmlOp.rootChar] : [];
  if (segments.length === 2) bytes.push(0x2e); // DualNamePrefix
  else if (segments.length > 2) bytes.push(0x2f, segments.length); // MultiNamePrefix
  for (const segment of segments) {
    if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(segment)) throw new RangeError(`invalid AML name segment "${segment}"`);
    for (const ch of segment.padEnd(4, '_')) bytes.push(ch.charCodeAt(0));
  }
  return Uint8Array.from(bytes);
}

/** An integer constant in the smallest encoding (Zero, One, Byte, Word or DWord). */
export function integer(value: number): Uint8Array {
  if (value === 0) return Uint8Array.of(AmlOp.zero);
  if (value === 1) return Uint8Array.of(AmlOp.one);
  if (value <= 0xff) return Uint8Array.of(AmlOp.bytePrefix, value);
  if (value <= 0xffff) return Uint8Array.of(AmlOp.wordPrefix, value & 0xff, value >>> 8);
  return Uint8Array.of(AmlOp.dwordPrefix, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
}

/** A string constant (ASCII). */
export function string(text: string): Uint8Array {
  return concat([Uint8Array.of(AmlOp.stringPrefix), new TextEncoder().encode(text), Uint8Array.of(0)]);
}

/** `Name(path, value)`. */
export function name(path: string, value: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(AmlOp.name), nameString(path), value]);
}

/** `Scope(path) { ...terms }`. */
export function scope(path: string, terms: readonly Uint8Array[]): Uint8Array {
  const body = concat([nameString(path), ...terms]);
  return concat([Uint8Array.of(AmlOp.scope), pkgLength(body.length), body]);
}

/** `Device(path) { ...terms }`. */
export function device(path: string, terms: readonly Uint8Array[]): Uint8Array {
  const body = concat([nameString(path), ...terms]);
  return concat([Uint8Array.of(AmlOp.extPrefix, AmlOp.device), pkgLength(body.length), body]);
}

/** `Buffer() { bytes }` with the size given as an integer. */
export function buffer(bytes: Uint8Array): Uint8Array {
  const body = concat([integer(bytes.length), bytes]);
  return concat([Uint8Array.of(AmlOp.buffer), pkgLength(body.length), body]);
}

/** `Package() { ...elements }` (at most 255 elements). */
export function packageOf(elements: readonly Uint8Array[]): Uint8Array {
  const body = concat([Uint8Array.of(elements.length), ...elements]);
  return concat([Uint8Array.of(AmlOp.package), pkgLength(body.length), body]);
}

/** Resource descriptor `Memory32Fixed(ReadWrite, base, length)`. */
export function memory32Fixed(base: number, length: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  out[0] = 0x86; // large item, type 0x06
  view.setUint16(1, 9, true);
  out[3] = 1; // read-write
  view.setUint32(4, base, true);
  view.setUint32(8, length, true);
  return out;
}

/** Resource descriptor `Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) { gsi }`. */
export function extendedInterrupt(gsi: number): Uint8Array {
  const out = new Uint8Array(9);
  const view = new DataView(out.buffer);
  out[0] = 0x89; // large item, type 0x09
  view.setUint16(1, 6, true);
  out[3] = 0x01 | 0x02; // consumer, edge-triggered, active high, exclusive
  out[4] = 1; // one interrupt
  view.setUint32(5, gsi, true);
  return out;
}

/** `ResourceTemplate() { ...descriptors }`: the descriptors followed by an end tag, as a Buffer. */
export function resourceTemplate(descriptors: readonly Uint8Array[]): Uint8Array {
  const items = concat([...descriptors, Uint8Array.of(0x79, 0x00)]);
  // End tag checksum 0 means "treat as correct", which every OS accepts.
  return buffer(items);
}

export { concat as concatBytes };

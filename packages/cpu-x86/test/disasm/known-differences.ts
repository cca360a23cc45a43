/**
 * Known, deliberate differences between our disassembly and objdump's, each with its reason. The
 * agreement test counts how many cases each entry explains and prints the counts.
 */
export interface KnownDifference {
  readonly id: string;
  readonly reason: string;
  /** True when this entry explains the difference for this case. */
  matches(bytes: Uint8Array, ours: string, objdump: string, mode: 16 | 32): boolean;
}

const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);
function split(bytes: Uint8Array): { prefixes: number[]; opcode: number; next: number } {
  let i = 0;
  while (i < bytes.length && PREFIXES.has(bytes[i])) i++;
  const opcode = bytes[i] === 0x0f ? 0x0f00 | bytes[i + 1] : bytes[i];
  return { prefixes: Array.from(bytes.subarray(0, i)), opcode, next: bytes[i + (opcode > 0xff ? 2 : 1)] };
}

const PREFIX_NAMES = new Set(['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'data16', 'data32', 'addr16', 'addr32', 'lock', 'rep', 'repz', 'repnz', 'bnd', 'xacquire', 'xrelease']);

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    id: 'rel8-under-66',
    reason: 'objdump ignores a 66 prefix on rel8 jumps (prints data16 and an unmasked target); the CPU ' +
      'truncates the target to 16 bits with a 16-bit operand size, and so do we',
    matches: (b, ours, theirs) => {
      const s = split(b);
      return s.prefixes.includes(0x66) && ((s.opcode >= 0x70 && s.opcode <= 0x7f) || (s.opcode >= 0xe0 && s.opcode <= 0xe3) || s.opcode === 0xeb) &&
        ours.replace(/0x[0-9a-f]+$/, '') === theirs.replace(/,/g, ', ').replace(/0x[0-9a-f]+$/, '');
    },
  },
  {
    id: 'f2-bnd',
    reason: 'objdump names F2 on branches `bnd` (MPX, not on this i686 CPU); we show it as the repnz it encodes',
    matches: (_b, ours, theirs) => theirs.startsWith('bnd ') && ours.replace(/^repnz /, '').replace(/, /g, ',') === theirs.slice(4),
  },
  {
    id: 'hle-names',
    reason: 'objdump names F2/F3 before lockable memory instructions and mov-to-memory `xacquire`/`xrelease` ' +
      '(TSX, not on this i686 CPU, which ignores them); we show repnz/repz',
    matches: (_b, ours, theirs) => /^(xacquire|xrelease) /.test(theirs) &&
      ours.replace(/^(repnz|repz) /, '').replace(/, /g, ',') === theirs.replace(/^(xacquire|xrelease) /, ''),
  },
  {
    id: 'invalid-segment-register',
    reason: 'mov to/from segment register 6 or 7 raises #UD on the CPU; objdump prints `?` for the register',
    matches: (b, ours, theirs) => {
      const s = split(b);
      return (s.opcode === 0x8c || s.opcode === 0x8e) && ((s.next >> 3) & 7) >= 6 && ours === '(bad)' && theirs.includes('?');
    },
  },
  {
    id: 'not-in-instruction-set',
    reason: 'encodings outside this CPU\'s i686 integer + x87 set (MMX, SSE*, 3DNow!, VMX/SVM, SYSCALL, ' +
      'later 0F 01 register forms...): the CPU raises #UD, so the table has no row and we print (bad)',
    matches: (_b, ours, theirs) => ours === '(bad)' && !theirs.includes('(bad)'),
  },
  {
    id: 'hint-nop-names',
    reason: '0F 18-1F are hint NOPs on the CPU (table rows `nop Ev`); objdump names the later extensions ' +
      'that live there (prefetch*, MPX bnd*, cldemote, endbr)',
    matches: (b, ours, theirs) => {
      const s = split(b);
      return s.opcode >= 0x0f18 && s.opcode <= 0x0f1f && /\bnop\b/.test(ours) && !/\bnop\b/.test(theirs);
    },
  },
  {
    id: 'sal-alias',
    reason: 'shift group /6 is the undocumented alias of shl; the opcode table names it sal, objdump shl',
    matches: (_b, ours, theirs) => /\bsal\b/.test(ours) && ours.replace(/\bsal\b/, 'shl').replace(/, /g, ',') === theirs,
  },
  {
    id: 'salc',
    reason: 'D6 is SALC on every Intel CPU (undocumented); objdump leaves it (bad)',
    matches: (_b, ours, theirs) => /\bsalc$/.test(ours) && theirs.endsWith('(bad)'),
  },
  {
    id: 'prefix-selected-opcode',
    reason: 'objdump treats a 66/F2/F3 prefix as selecting another (post-P6) instruction or (bad) ' +
      '(wbnoinvd, cr8 via LOCK, ...); the i686 CPU ignores the prefix and executes the base instruction',
    matches: (b, ours, theirs) => {
      const s = split(b);
      const mnemonic = (t: string): string => t.split(' ').filter((w) => !PREFIX_NAMES.has(w))[0] ?? '';
      return ours !== '(bad)' && mnemonic(ours) !== mnemonic(theirs) && (s.prefixes.includes(0x66) || s.prefixes.includes(0xf2) || s.prefixes.includes(0xf3) || s.prefixes.includes(0xf0)) && s.opcode > 0xff;
    },
  },
  {
    id: 'ip-wrap-16',
    reason: 'with a 16-bit operand size the CPU wraps branch targets at 64 KiB (IP); objdump in i8086 mode ' +
      'does not, and the test image is larger than 64 KiB',
    matches: (_b, ours, theirs, mode) => {
      const m = /^(.*)0x([0-9a-f]+)$/.exec(theirs.replace(/^bnd /, 'repnz '));
      return mode === 16 && m !== null && ours.replace(/, /g, ',') === m[1] + '0x' + (parseInt(m[2], 16) & 0xffff).toString(16);
    },
  },
  {
    id: 'lock-mov-cr8',
    reason: 'objdump decodes LOCK MOV CR0 as AMD\'s alternate CR8 encoding; on the i686 CPU it is #UD, shown ' +
      'as the locked mov cr0 it encodes',
    matches: (_b, ours, theirs) => ours.startsWith('lock mov') && theirs.includes('cr8'),
  },
];

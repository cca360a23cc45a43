/** EFLAGS bits used by the generator's per-instruction flag tables. */
export const CF = 0x0001;
export const PF = 0x0004;
export const AF = 0x0010;
export const ZF = 0x0040;
export const SF = 0x0080;
export const TF = 0x0100;
export const IF = 0x0200;
export const DF = 0x0400;
export const OF = 0x0800;
export const NT = 0x4000;
export const RF = 0x10000;
export const AC = 0x40000;
export const ID = 0x200000;
/** The six arithmetic status flags. */
export const STATUS = CF | PF | AF | ZF | SF | OF;
/**
 * Bits compared after every case: all architecturally defined EFLAGS bits except RF, which the host
 * kernel sets in the EFLAGS image it reports after a fault (and which no user instruction reads).
 */
export const COMPARED_FLAGS = 0x003e7fd7;
/** Bits a CPL 3 POPF/SAHF case may put on the stack: everything but TF (single-step would trap). */
export const POPF_SOURCE_MASK = 0x003f7fd7 & ~TF;

export function flagNames(mask: number): string {
  const names: [number, string][] = [
    [CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [TF, 'TF'], [IF, 'IF'], [DF, 'DF'], [OF, 'OF'],
    [0x3000, 'IOPL'], [NT, 'NT'], [RF, 'RF'], [0x20000, 'VM'], [AC, 'AC'], [0x80000, 'VIF'], [0x100000, 'VIP'], [ID, 'ID'],
  ];
  return names.filter(([bit]) => (mask & bit) !== 0).map(([, n]) => n).join('|') || '-';
}

/** The 16 condition codes (Jcc/SETcc/CMOVcc low nibble) and the flags each reads. */
export const CONDITION_FLAGS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];

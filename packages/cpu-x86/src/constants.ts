/** EFLAGS bits. */
export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400,
  OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000,
  VIP = 0x100000, ID = 0x200000;
/** The six arithmetic flags that may be computed lazily. */
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** Bits of EFLAGS that exist on this CPU (others read as their fixed value). */
export const FLAGS_IMPLEMENTED = ARITH | TF | IF | DF | IOPL | NT | RF | VM | AC | ID;
/** Bit 1 of EFLAGS always reads 1. */
export const FLAGS_FIXED = 0x2;

/** Segment register slots: 0-5 are the architectural encodings (ES CS SS DS FS GS). */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;

/** GPR numbers in ModRM encoding order. */
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

/** Exception vectors. */
export const DE = 0, DB = 1, NMI = 2, BP = 3, OFV = 4, BR = 5, UD = 6, NM = 7, DFV = 8, TS = 10, NP = 11,
  SSF = 12, GP = 13, PFV = 14, MF = 16, ACV = 17, MC = 18;

/** CR0 bits. */
export const CR0_PE = 0x1, CR0_MP = 0x2, CR0_EM = 0x4, CR0_TS = 0x8, CR0_ET = 0x10, CR0_NE = 0x20,
  CR0_WP = 0x10000, CR0_AM = 0x40000, CR0_NW = 0x20000000, CR0_CD = 0x40000000, CR0_PG = 0x80000000 | 0;
/** CR4 bits. */
export const CR4_VME = 0x1, CR4_PVI = 0x2, CR4_TSD = 0x4, CR4_DE = 0x8, CR4_PSE = 0x10, CR4_PAE = 0x20,
  CR4_MCE = 0x40, CR4_PGE = 0x80, CR4_PCE = 0x100, CR4_OSFXSR = 0x200;
/** CR4 bits this CPU accepts (others #GP). */
export const CR4_SUPPORTED = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR;

/** Decoded prefix bits (dPfx). */
export const P_O32 = 0x1, P_A32 = 0x2, P_LOCK = 0x4, P_REP = 0x8, P_REPNE = 0x10;
/** Segment override, stored as (segment + 1) << P_SEG_SHIFT; 0 = none. */
export const P_SEG_SHIFT = 5;

/** Decoded effective-address encoding (dEa): base | index << 4 | scale << 8 | flags. */
export const EA_NONE = 8, EA_A16 = 0x400, EA_MEM = 0x800;

/** Lazy flag operation kinds. */
/** OP_SHIFT keeps CF in lfSrc and OF (0/1) in lfDst. Kinds >= OP_LOGIC have AF = 0. */
export const OP_ADD = 0, OP_ADC = 1, OP_SUB = 2, OP_SBB = 3, OP_LOGIC = 4, OP_SHIFT = 5;

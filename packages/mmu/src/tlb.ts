/**
 * Bits of a software-TLB entry. An entry is one int32 in `Paging.tlbEntries`, indexed by linear page
 * number (`linear >>> 12`):
 *
 * ```
 *  31                      12 11  9   8    7    6    5    4    3    2    1    0
 * +--------------------------+------+----+----+----+----+----+----+----+----+----+
 * | physical page base 31:12 |  0   | Ls | Lg | D  | G  | UX | UW | UR | SX | SW | SR |
 * +--------------------------+------+----+----+----+----+----+----+----+----+----+
 * ```
 * (Ls = Listed at bit 9, Lg = LargePage at bit 8.) Bits 0-5 say which accesses may use the entry
 * without a page walk: bit `access + (user ? 3 : 0)` for access 0 = read, 1 = write, 2 = execute.
 * An entry of 0, or one with only bookkeeping bits, is a miss for every access.
 */
export const TlbFlag = {
  /** A supervisor (CPL 0-2) read may use the entry. */
  SupervisorRead: 1 << 0,
  /** A supervisor write may use the entry: the page is writable under the current CR0.WP and already dirty. */
  SupervisorWrite: 1 << 1,
  /** A supervisor instruction fetch may use the entry (no XD bit in effect). */
  SupervisorExecute: 1 << 2,
  /** A user (CPL 3) read may use the entry: U/S = 1 at every level. */
  UserRead: 1 << 3,
  /** A user write may use the entry: U/S = 1 and R/W = 1 at every level, and already dirty. */
  UserWrite: 1 << 4,
  /** A user instruction fetch may use the entry. */
  UserExecute: 1 << 5,
  /** Global page (G = 1 with CR4.PGE = 1): survives CR3 reloads. */
  Global: 1 << 6,
  /** The final paging entry already had (or now has) D = 1. */
  Dirty: 1 << 7,
  /** The translation came from a 4 MiB or 2 MiB page. */
  LargePage: 1 << 8,
  /** Bookkeeping: the page number is in the filled list. Not an access right. */
  Listed: 1 << 9,
} as const;

/** Mask of all six access-right bits of a TLB entry. */
export const TLB_ALL_ACCESS = 0x3f;

/** Mask of the physical page base in a TLB entry (as an int32: `entry & TLB_FRAME_MASK`). */
export const TLB_FRAME_MASK = -4096;

/**
 * The TLB entry bit that must be set for an access of kind `access` (0 read, 1 write, 2 execute)
 * at user (`true`) or supervisor privilege to hit. The CPU can compute this once per privilege
 * change and keep it in a local.
 *
 * @example
 * ```ts
 * declare const paging: Paging, linear: number, cpl: number;
 * const need = tlbAccessBit(AccessKind.Write, cpl === 3);
 * const e = paging.tlbEntries[linear >>> 12];
 * const phys = (e & need) !== 0 ? ((e & TLB_FRAME_MASK) | (linear & 0xfff)) >>> 0 : paging.translate(linear, 1, cpl === 3);
 * ```
 */
export function tlbAccessBit(access: 0 | 1 | 2, user: boolean): number {
  return 1 << (access + (user ? 3 : 0));
}

const PAGE_COUNT = 1 << 20;
/** Above this many filled entries a full flush clears the whole array instead of walking the list. */
const BULK_CLEAR_THRESHOLD = 1 << 16;

/**
 * A flat software TLB: one int32 per linear 4 KiB page, plus the list of filled page numbers so a
 * flush costs O(filled entries). Invalidated entries keep only the `Listed` bit, so a page is never
 * in the list twice. Large pages are cached per 4 KiB page; a per-2-MiB mark lets INVLPG drop every
 * piece of a large page in O(1) when no large page was cached there.
 */
export class Tlb {
  /** The entries; see {@link TlbFlag} for the format. Read-only for users of the TLB. */
  readonly entries = new Int32Array(PAGE_COUNT);
  private readonly filled = new Int32Array(PAGE_COUNT);
  private filledCount = 0;
  private readonly largeRegions = new Uint8Array(PAGE_COUNT >>> 9);

  /** Number of pages currently in the filled list (valid or invalidated-but-listed). */
  get size(): number {
    return this.filledCount;
  }

  /** Stores `entry` (frame | flags, without `Listed`) for linear page `page`. */
  set(page: number, entry: number): void {
    const entries = this.entries;
    if (entries[page] === 0) {
      if (this.filledCount === PAGE_COUNT) this.flush(true);
      this.filled[this.filledCount++] = page;
    }
    entries[page] = entry | TlbFlag.Listed;
    if ((entry & TlbFlag.LargePage) !== 0) this.largeRegions[page >>> 9] = 1;
  }

  /**
   * Drops the translation of linear page `page`, and, if a large page of `largePageFrames` 4 KiB
   * pages (1024 for 4 MiB, 512 for 2 MiB) may be cached around it, every piece of that large page.
   */
  invalidate(page: number, largePageFrames: number): void {
    const entries = this.entries;
    if (entries[page] !== 0) entries[page] = TlbFlag.Listed;
    const first = page & ~(largePageFrames - 1);
    const regionFirst = first >>> 9;
    const regionCount = largePageFrames >>> 9;
    let marked = false;
    for (let r = 0; r < regionCount; r++) if (this.largeRegions[regionFirst + r] !== 0) marked = true;
    if (!marked) return;
    for (let p = first; p < first + largePageFrames; p++) {
      if ((entries[p] & TlbFlag.LargePage) !== 0) entries[p] = TlbFlag.Listed;
    }
    for (let r = 0; r < regionCount; r++) this.largeRegions[regionFirst + r] = 0;
  }

  /** Drops every entry (`includeGlobal`) or every entry without the Global bit. */
  flush(includeGlobal: boolean): void {
    const entries = this.entries;
    const filled = this.filled;
    const count = this.filledCount;
    if (includeGlobal) {
      if (count > BULK_CLEAR_THRESHOLD) entries.fill(0);
      else for (let i = 0; i < count; i++) entries[filled[i]] = 0;
      this.filledCount = 0;
      this.largeRegions.fill(0);
      return;
    }
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const page = filled[i];
      if ((entries[page] & TlbFlag.Global) !== 0) filled[kept++] = page;
      else entries[page] = 0;
    }
    this.filledCount = kept;
  }
}

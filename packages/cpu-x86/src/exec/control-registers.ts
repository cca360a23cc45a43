import { CR0_CD, CR0_ET, CR0_NW, CR0_PE, CR0_PG } from '../constants.js';
import type { CpuCore } from '../core.js';

/** Write CR0 (MOV CR0, LMSW) with its consistency rules; switches modes and paging as needed. */
export function checkCr0Change(c: CpuCore, v: number): void {
  v = (v | CR0_ET) & (0xe005003f | 0);
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) c.gp(0);
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) c.gp(0);
  const old = c.cr0;
  c.cr0 = v;
  if (((old ^ v) & (CR0_PG | CR0_PE | 0x10000)) !== 0) {
    c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
    c.flushTlb();
  }
  if (((old ^ v) & CR0_PE) !== 0) {
    if ((v & CR0_PE) === 0) {
      // Back to real mode: CPL 0, the cached segments stay usable ("unreal" limits are kept).
      c.setCpl(0);
      for (let s = 0; s < 6; s++) c.segCheck[s] = 0;
    }
    c.csChanged();
    c.ssChanged();
  }
  c.syncAlignCheck(); // CR0.AM, and a switch to real mode rewrote the segment check bits
  c.chunkBreak = true;
}

/*
 * Native side of typevisor's differential tester: runs x86 test cases on this host's CPU in user mode
 * and prints their final state, so the interpreter's result can be compared with real hardware.
 *
 * Records in and out as in case-loop.h, which this shares with the 64-bit runner (../native64).
 *
 * Guest addresses: the data page is guest 0x1000, the stack page 0x2000. Natively they live at
 * WINDOW_BASE + address and are reached through an LDT segment with base WINDOW_BASE loaded into DS,
 * ES and SS, so even 16-bit effective addresses mean the same bytes as in the interpreter. The code
 * page is at the same linear address on both sides (CS is flat).
 *
 * Faults are caught with sigaction on an alternate stack; the kernel's trap number and error code
 * (ucontext REG_TRAPNO/REG_ERR) are the exception vector and error code.
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "case-loop.h"

#define WINDOW_BASE 0x00100000u

extern uint32_t tv_window_selector;
extern uint32_t tv_code_entry;

static void on_fault(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)info;
  ucontext_t *uc = context;
  greg_t *g = uc->uc_mcontext.gregs;
  tv_out[0] = g[REG_EAX];
  tv_out[1] = g[REG_ECX];
  tv_out[2] = g[REG_EDX];
  tv_out[3] = g[REG_EBX];
  tv_out[4] = g[REG_UESP];
  tv_out[5] = g[REG_EBP];
  tv_out[6] = g[REG_ESI];
  tv_out[7] = g[REG_EDI];
  tv_out[8] = g[REG_EFL];
  tv_out[9] = g[REG_EIP];
  fault_vector = g[REG_TRAPNO];
  fault_error = g[REG_ERR];
  siglongjmp(fault_jump, 1);
}

int main(void) {
  uint8_t *window = mmap((void *)(WINDOW_BASE + REGION_START), REGION_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (window != (uint8_t *)(WINDOW_BASE + REGION_START)) die("mmap data/stack window");
  uint8_t *code = mmap((void *)CODE_ADDR, CODE_PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code != (uint8_t *)CODE_ADDR) die("mmap code page");

  struct user_desc desc = {0};
  desc.entry_number = 0;
  desc.base_addr = WINDOW_BASE;
  desc.limit = REGION_START + REGION_SIZE - 1;
  desc.seg_32bit = 1;
  desc.useable = 1;
  if (syscall(SYS_modify_ldt, 1, &desc, sizeof desc) != 0) die("modify_ldt (needs CONFIG_MODIFY_LDT_SYSCALL)");
  tv_window_selector = (0 << 3) | 4 | 3; /* LDT entry 0, RPL 3 */
  tv_code_entry = CODE_ADDR;

  catch_faults(on_fault);
  run_cases(window, code);
  return 0;
}

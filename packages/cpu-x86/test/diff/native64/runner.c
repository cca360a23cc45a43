/*
 * Long-mode side of typevisor's differential tester, for hosts whose kernel runs no 32-bit programs:
 * runs test cases whose instructions mean the same in 64-bit mode as in 32-bit protected mode
 * (long-mode-subset.ts translates them) on this host's CPU, in a 64-bit process, and prints their
 * final state in the same format as the 32-bit runner (../native/runner.c).
 *
 * Records in and out as in ../native/case-loop.h (shared with the 32-bit runner); the code is
 * already translated, and EIP in the results is the translated code's (the caller maps it back).
 *
 * The data page (guest 0x1000) and stack page (0x2000) are mapped at those very addresses (this needs
 * vm.mmap_min_addr <= 4096, Linux's default), the code page at 0x30000. Faults arrive as signals on
 * an alternate stack; the kernel's trap number and error code are the vector and error code.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "../native/case-loop.h"

extern uint64_t tv_code_entry;

static void on_fault(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)info;
  ucontext_t *uc = context;
  greg_t *g = uc->uc_mcontext.gregs;
  tv_out[0] = (uint32_t)g[REG_RAX];
  tv_out[1] = (uint32_t)g[REG_RCX];
  tv_out[2] = (uint32_t)g[REG_RDX];
  tv_out[3] = (uint32_t)g[REG_RBX];
  tv_out[4] = (uint32_t)g[REG_RSP];
  tv_out[5] = (uint32_t)g[REG_RBP];
  tv_out[6] = (uint32_t)g[REG_RSI];
  tv_out[7] = (uint32_t)g[REG_RDI];
  tv_out[8] = (uint32_t)g[REG_EFL];
  tv_out[9] = (uint32_t)g[REG_RIP];
  fault_vector = (uint32_t)g[REG_TRAPNO];
  fault_error = (uint32_t)g[REG_ERR];
  siglongjmp(fault_jump, 1);
}

int main(void) {
  uint8_t *window = mmap((void *)(uintptr_t)REGION_START, REGION_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (window != (uint8_t *)(uintptr_t)REGION_START) die("mmap data/stack pages at 0x1000 (needs vm.mmap_min_addr <= 4096)");
  uint8_t *code = mmap((void *)(uintptr_t)CODE_ADDR, CODE_PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code != (uint8_t *)(uintptr_t)CODE_ADDR) die("mmap code page");
  tv_code_entry = CODE_ADDR;

  catch_faults(on_fault);
  run_cases(window, code);
  return 0;
}

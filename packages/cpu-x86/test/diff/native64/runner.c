/*
 * Long-mode side of typevisor's differential tester, for hosts whose kernel runs no 32-bit programs:
 * runs test cases whose instructions mean the same in 64-bit mode as in 32-bit protected mode
 * (long-mode-subset.ts translates them) on this host's CPU, in a 64-bit process, and prints their
 * final state in the same format as the 32-bit runner (../native/runner.c).
 *
 * stdin:  case records (layout in ../case-format.ts); the code is already translated.
 * stdout: one result record per case: 13 little-endian words (eax..edi, eflags, eip, vector,
 *         error code, change count) followed by `change count` words (guest address << 8 | byte).
 *         EIP is the translated code's; the caller maps it back to the original instruction.
 *
 * The data page (guest 0x1000) and stack page (0x2000) are mapped at those very addresses (this needs
 * vm.mmap_min_addr <= 4096, Linux's default), the code page at 0x30000. Faults arrive as signals on
 * an alternate stack; the kernel's trap number and error code are the vector and error code.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define REGION_START 0x1000u /* guest address of the data page */
#define REGION_SIZE 0x2000u  /* data page + stack page */
#define CODE_ADDR 0x00030000u
#define CODE_PAGE_SIZE 0x1000u

#define RECORD_SIZE 320
#define MAX_PATCHES 8
#define PATCH_BYTES 12
#define CODE_OFFSET 176
#define CODE_MAX (RECORD_SIZE - CODE_OFFSET)
#define NO_VECTOR 0xffffffffu

extern uint32_t tv_in[9];
extern uint32_t tv_out[10];
extern uint64_t tv_code_entry;
extern void tv_enter(void);
extern void tv_exit(void);

static sigjmp_buf fault_jump;
static volatile uint32_t fault_vector, fault_error;
static uint8_t initial[REGION_SIZE];

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Same generator as memory-pattern.ts: xorshift32 words, little-endian. */
static void fill_pattern(uint8_t *dst, uint32_t seed) {
  uint32_t x = seed ? seed : 0x9e3779b9u;
  for (uint32_t i = 0; i < REGION_SIZE; i += 4) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    memcpy(dst + i, &x, 4);
  }
}

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

static void die(const char *what) {
  perror(what);
  exit(2);
}

int main(void) {
  uint8_t *window = mmap((void *)(uintptr_t)REGION_START, REGION_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (window != (uint8_t *)(uintptr_t)REGION_START) die("mmap data/stack pages at 0x1000 (needs vm.mmap_min_addr <= 4096)");
  uint8_t *code = mmap((void *)(uintptr_t)CODE_ADDR, CODE_PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code != (uint8_t *)(uintptr_t)CODE_ADDR) die("mmap code page");
  tv_code_entry = CODE_ADDR;

  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) die("sigaltstack");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
  for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (sigaction(signals[i], &sa, NULL) != 0) die("sigaction");
  alarm(120); /* a runaway snippet must not hang the test run */

  static uint8_t record[RECORD_SIZE];
  static uint32_t out[13 + REGION_SIZE];
  while (fread(record, RECORD_SIZE, 1, stdin) == 1) {
    fill_pattern(initial, rd32(record + 36));
    uint32_t patches = rd32(record + 44);
    if (patches > MAX_PATCHES) patches = MAX_PATCHES;
    for (uint32_t p = 0; p < patches; p++) {
      const uint8_t *patch = record + 48 + p * 16;
      uint32_t addr = patch[0] | patch[1] << 8;
      uint32_t len = patch[2] > PATCH_BYTES ? PATCH_BYTES : patch[2];
      for (uint32_t i = 0; i < len; i++) {
        uint32_t a = addr + i - REGION_START;
        if (a < REGION_SIZE) initial[a] = patch[4 + i];
      }
    }
    memcpy(window, initial, REGION_SIZE);

    uint32_t code_len = rd32(record + 40);
    if (code_len > CODE_MAX - 5) code_len = CODE_MAX - 5;
    memset(code, 0xcc, CODE_PAGE_SIZE);
    memcpy(code, record + CODE_OFFSET, code_len);
    uint64_t jump_from = CODE_ADDR + code_len + 5;
    int32_t rel = (int32_t)((uint64_t)(uintptr_t)tv_exit - jump_from);
    code[code_len] = 0xe9;
    memcpy(code + code_len + 1, &rel, 4);

    for (int r = 0; r < 8; r++) tv_in[r] = rd32(record + r * 4);
    tv_in[8] = (rd32(record + 32) & ~0x00000100u) | 0x202u; /* TF never set; IF is always 1 in user mode */

    volatile uint32_t vector = NO_VECTOR, error = 0;
    if (sigsetjmp(fault_jump, 0) == 0) {
      tv_enter();
      tv_out[9] = CODE_ADDR + code_len;
    } else {
      vector = fault_vector;
      error = fault_error;
    }

    memcpy(out, tv_out, 40);
    out[10] = vector;
    out[11] = error;
    uint32_t n = 0;
    for (uint32_t i = 0; i < REGION_SIZE; i += 4) {
      if (memcmp(window + i, initial + i, 4) == 0) continue;
      for (uint32_t j = i; j < i + 4; j++)
        if (window[j] != initial[j]) out[13 + n++] = (REGION_START + j) << 8 | window[j];
    }
    out[12] = n;
    fwrite(out, 4, 13 + n, stdout);
  }
  return 0;
}

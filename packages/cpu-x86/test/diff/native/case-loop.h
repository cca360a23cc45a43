/*
 * The part of the differential tester's native runners that does not depend on the mode they run
 * in: reading case records, filling the data and stack pages, writing the code with its exit jump,
 * catching faults, and writing result records. Included by native/runner.c (32-bit process) and
 * native64/runner.c (64-bit process), which map the pages, provide the trampoline (tv_enter,
 * tv_exit) and read the registers of a fault from their ucontext.
 *
 * stdin:  a sequence of fixed-size case records (layout in ../case-format.ts, kept in sync by hand)
 * stdout: one result record per case: 13 little-endian words (eax..edi, eflags, eip, vector,
 *         error code, change count) followed by `change count` words (guest address << 8 | byte) for
 *         every byte of the data and stack pages that differs from its initial value.
 */
#ifndef TYPEVISOR_CASE_LOOP_H
#define TYPEVISOR_CASE_LOOP_H

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

extern uint32_t tv_in[9];   /* eax ecx edx ebx esp ebp esi edi eflags */
extern uint32_t tv_out[10]; /* the same and eip */
extern void tv_enter(void);
extern void tv_exit(void);

static sigjmp_buf fault_jump;
static volatile uint32_t fault_vector, fault_error;

static void die(const char *what) {
  perror(what);
  exit(2);
}

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

/* Faults arrive as signals on an alternate stack; `on_fault` fills tv_out, fault_vector and
 * fault_error from the ucontext (the kernel's trap number and error code) and siglongjmps back. */
static void catch_faults(void (*on_fault)(int, siginfo_t *, void *)) {
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
}

/* Runs every case on stdin: `window` is where the data and stack pages are mapped, `code` the code
 * page (at CODE_ADDR in the snippet's address space). */
static void run_cases(uint8_t *window, uint8_t *code) {
  static uint8_t initial[REGION_SIZE];
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
    if (code_len > CODE_MAX) code_len = CODE_MAX;
    memset(code, 0xcc, CODE_PAGE_SIZE);
    memcpy(code, record + CODE_OFFSET, code_len);
    uintptr_t jump_from = CODE_ADDR + code_len + 5;
    int32_t rel = (int32_t)((uintptr_t)tv_exit - jump_from);
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
}

#endif

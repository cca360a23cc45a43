/*
 * Native x87 reference harness for the differential test (test/fpu/native-compare.test.ts).
 *
 * Reads one case per line from stdin:
 *   <cw:hex16> <depth:0-8> <eflags:hex32> <escape:hex8> <modrm:hex8> <A:20 hex> <B:20 hex> <M:256 hex>
 * A and B are 80-bit values written as sign/exponent (4 hex digits) then significand (16 hex
 * digits). M is the 128-byte memory operand. For each case it generates and runs, on the host's
 * own x87 unit:
 *     fninit; 8 x fldz; fninit; fldcw cw; (depth-1) x fld tbyte B; fld tbyte A (when depth >= 1);
 *     push eflags; popf; <escape modrm [disp32 -> M]>; fnsave area; pushf; pop flagsOut
 * and prints: <fnsave area 108 bytes hex> <M after 128 bytes hex> <eflags after hex32>.
 * Build: gcc -m32 -O1 -o x87-harness x87-harness.c, or on a host whose kernel runs no 32-bit
 * programs as a 64-bit program: gcc -O1 -no-pie -o x87-harness x87-harness.c (the x87 behaves the
 * same in 64-bit mode; the data must lie below 2 GiB, which -no-pie gives, and every absolute
 * [disp32] is written with a SIB byte, since without one it means RIP-relative there).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint8_t valA[16] __attribute__((aligned(16)));
static uint8_t valB[16] __attribute__((aligned(16)));
static uint8_t mem[128] __attribute__((aligned(16)));
static uint8_t area[112] __attribute__((aligned(16)));
static uint16_t cwIn;
static uintptr_t flagsOut; /* PUSHF/POP push and pop a whole stack slot */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parses an 80-bit value "SSSSMMMMMMMMMMMMMMMM" into little-endian memory order. */
static int parse80(const char *s, uint8_t *out) {
  uint8_t be[10];
  for (int i = 0; i < 10; i++) {
    int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
    if (h < 0 || l < 0) return -1;
    be[i] = (uint8_t)(h << 4 | l);
  }
  for (int i = 0; i < 8; i++) out[i] = be[9 - i];
  out[8] = be[1];
  out[9] = be[0];
  return 0;
}

static uint8_t *emit32(uint8_t *p, uint32_t v) {
  memcpy(p, &v, 4);
  return p + 4;
}

/* ModR/M (and SIB) for the absolute address [disp32] with the given reg field, then disp32. */
static uint8_t *emitAbsolute(uint8_t *p, unsigned reg, const void *address) {
#ifdef __x86_64__
  *p++ = (uint8_t)((reg << 3) | 0x04);
  *p++ = 0x25;
#else
  *p++ = (uint8_t)((reg << 3) | 0x05);
#endif
  return emit32(p, (uint32_t)(uintptr_t)address);
}

int main(void) {
  uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  static char line[1024];
  while (fgets(line, sizeof line, stdin)) {
    unsigned cw, depth, eflags, esc, modrm;
    char a[32], b[32], m[300];
    if (sscanf(line, "%x %u %x %x %x %31s %31s %299s", &cw, &depth, &eflags, &esc, &modrm, a, b, m) != 8) {
      fprintf(stderr, "bad line: %s", line);
      return 2;
    }
    if (parse80(a, valA) || parse80(b, valB)) return 2;
    for (int i = 0; i < 128; i++) mem[i] = (uint8_t)(hexval(m[2 * i]) << 4 | hexval(m[2 * i + 1]));
    cwIn = (uint16_t)cw;
    memset(area, 0, sizeof area);
    uint8_t *p = code;
    /* Empty registers keep their old contents (FSAVE shows them): start from eight +0s. */
    *p++ = 0xdb; *p++ = 0xe3;                                         /* fninit */
    for (int k = 0; k < 8; k++) { *p++ = 0xd9; *p++ = 0xee; }         /* fldz */
    *p++ = 0xdb; *p++ = 0xe3;                                         /* fninit */
    *p++ = 0xd9; p = emitAbsolute(p, 5, &cwIn);                       /* fldcw */
    for (unsigned k = 1; k < depth; k++) {
      *p++ = 0xdb; p = emitAbsolute(p, 5, valB);                      /* fld tbyte B */
    }
    if (depth >= 1) {
      *p++ = 0xdb; p = emitAbsolute(p, 5, valA);                      /* fld tbyte A */
    }
    *p++ = 0x68; p = emit32(p, eflags); *p++ = 0x9d;                  /* push imm32; popf */
    *p++ = (uint8_t)esc;
    if (modrm < 0xc0) {
      p = emitAbsolute(p, (modrm >> 3) & 7, mem);
    } else {
      *p++ = (uint8_t)modrm;
    }
    *p++ = 0xdd; p = emitAbsolute(p, 6, area);                         /* fnsave */
    *p++ = 0x9c;                                                       /* pushf */
    *p++ = 0x8f; p = emitAbsolute(p, 0, &flagsOut);                    /* pop [flagsOut] */
    *p++ = 0xc3;                                                       /* ret */
    ((void (*)(void))code)();
    for (int i = 0; i < 108; i++) printf("%02x", area[i]);
    putchar(' ');
    for (int i = 0; i < 128; i++) printf("%02x", mem[i]);
    printf(" %08x\n", (uint32_t)flagsOut);
  }
  return 0;
}

; QEMU side of the x87 differential test: a multiboot v1 kernel (a.out kludge, loaded at 1 MiB)
; that runs x87 cases the way ../native/x87-harness.c runs them on the host's own FPU, so that
; QEMU's TCG can stand in for it on hosts that run no 32-bit programs. Run as:
;   qemu-system-i386 -kernel x87-kernel.bin -initrd cases.bin
;     -device isa-debug-exit,iobase=0xf4 -debugcon file:results.bin
;
; Input: the multiboot module, a sequence of 192-byte case records (../x87-qemu-runner.ts):
;   +0 control word (u16), +2 stack depth (u8), +3 escape byte, +4 EFLAGS, +8 ModRM byte,
;   +16 operand A (80-bit), +32 operand B (80-bit), +64 the 128-byte memory operand.
; Each case runs, at CPL 0 with paging off (CR0.NE = 1 as under Linux):
;   fninit; 8 x fldz; fninit; fldcw cw; (depth - 1) x fld B; fld A (depth >= 1);
;   popfd EFLAGS; <escape ModRM [disp32 -> the memory operand]>; fnsave area; pushfd
; Output on port 0xE9, per case: the 108-byte FNSAVE image, the 128-byte memory operand after the
; instruction and EFLAGS after it (4 bytes): 240 bytes. Then 0 to port 0xF4 (QEMU exit status 1).
; FNINIT and FNSAVE do not wait, so an exception the instruction leaves pending is saved, not
; raised. Anything that faults all the same (a bad record) meets no IDT: QEMU shuts down (triple
; fault, -no-reboot) and the runner names the case that was running.

bits 32
KERNEL_BASE     equ 0x100000
org KERNEL_BASE
%include "multiboot.inc"              ; ../../diff/qemu/multiboot.inc (nasm -i)

RECORD_SIZE     equ 192
RECORD_CW       equ 0
RECORD_DEPTH    equ 2
RECORD_ESCAPE   equ 3
RECORD_EFLAGS   equ 4
RECORD_MODRM    equ 8
RECORD_A        equ 16
RECORD_B        equ 32
RECORD_MEMORY   equ 64
MEMORY_SIZE     equ 128
AREA_SIZE       equ 108
RESULT_SIZE     equ AREA_SIZE + MEMORY_SIZE + 4
; EFLAGS a case may set: CF PF AF ZF SF OF (IF stays 0, nothing else changes).
CASE_FLAGS      equ 0x8d5
DEBUGCON_PORT   equ 0xe9
EXIT_PORT       equ 0xf4
CR0_MP          equ 1 << 1
CR0_EM          equ 1 << 2
CR0_TS          equ 1 << 3
CR0_NE          equ 1 << 5

MULTIBOOT_HEADER

start:
    cli
    cld
    mov esp, stack_top
    FIRST_MODULE .stop, .stop
    mov esi, eax
    lea edi, [edx - (RECORD_SIZE - 1)] ; a partial trailing record is ignored
    mov eax, cr0
    and eax, ~(CR0_EM | CR0_TS)
    or eax, CR0_MP | CR0_NE
    mov cr0, eax
.next_case:
    cmp esi, edi
    jae .done
    call run_case
    add esi, RECORD_SIZE
    jmp .next_case
.done:
    mov dx, EXIT_PORT
    xor al, al
    out dx, al
.stop:
    hlt
    jmp .stop

; Runs the case record at esi and writes its result.
run_case:
    push esi
    push edi
    lea esi, [esi + RECORD_MEMORY]
    mov edi, memory_operand
    mov ecx, MEMORY_SIZE / 4
    rep movsd
    pop edi
    pop esi
    ; The instruction under test: escape, ModRM and a disp32 to the memory operand, or the
    ; register form padded with NOPs.
    mov al, [esi + RECORD_ESCAPE]
    mov [instruction], al
    mov al, [esi + RECORD_MODRM]
    cmp al, 0xc0
    jae .register_form
    and al, 0x38
    or al, 0x05                     ; [disp32]
    mov [instruction + 1], al
    mov dword [instruction + 2], memory_operand
    jmp .patched
.register_form:
    mov [instruction + 1], al
    mov dword [instruction + 2], 0x90909090
.patched:
    jmp .stack                      ; the patched bytes are fetched after a jump
.stack:
    ; Empty registers keep their old contents (FNSAVE shows them): start from eight +0s.
    fninit
    fldz
    fldz
    fldz
    fldz
    fldz
    fldz
    fldz
    fldz
    fninit
    fldcw [esi + RECORD_CW]
    movzx ecx, byte [esi + RECORD_DEPTH]
    cmp ecx, 1
    jb .flags
.push_b:
    cmp ecx, 1
    je .push_a
    fld tword [esi + RECORD_B]
    dec ecx
    jmp .push_b
.push_a:
    fld tword [esi + RECORD_A]
.flags:
    mov eax, [esi + RECORD_EFLAGS]
    and eax, CASE_FLAGS
    or eax, 2
    push eax
    popfd
instruction:
    times 6 nop
    fnsave [area]
    pushfd
    pop dword [flags_after]
    push esi
    mov dx, DEBUGCON_PORT
    mov esi, area
    mov ecx, AREA_SIZE
    rep outsb
    mov esi, memory_operand
    mov ecx, MEMORY_SIZE + 4        ; the memory operand, then flags_after right behind it
    rep outsb
    pop esi
    ret

align 16
image_end:

absolute image_end
area:           resb 112
memory_operand: resb MEMORY_SIZE
flags_after:    resd 1
                resd 3
stack:          resb 4096
stack_top:
bss_end:

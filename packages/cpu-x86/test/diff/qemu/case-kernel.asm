; QEMU side of the differential tester: a multiboot v1 kernel (a.out kludge, loaded at 1 MiB) that
; runs a batch of generated cases at CPL 3 in flat 32-bit protected mode, paging off, and reports
; each case's final state, so that QEMU's TCG can stand in for the host CPU on hosts that run no
; 32-bit programs. Run as: qemu-system-i386 -kernel case-kernel.bin -initrd cases.bin
;   -device isa-debug-exit,iobase=0xf4 -debugcon file:results.bin
;
; Input: the multiboot module, a sequence of case records (../case-format.ts encodeCases).
; Output on port 0xE9: one result record per case (../case-format.ts decodeResults): eax..edi,
; eflags, eip, vector, error code, change count, then (guest address << 8 | byte) for every changed
; byte of the data and stack pages. The kernel then writes 0 to port 0xF4 (QEMU exit status 1).
; If the kernel itself fails (a fault in its own code, no module), it writes a NUL, 'case-kernel: '
; and a line of text after the last complete result, then 1 to port 0xF4 (exit status 3).
;
; The guest layout is the interpreter runner's (../layout.ts): data page 0x1000, stack page 0x2000,
; code at 0x30000, flat 4 GiB segments. A case ends when it runs into the HLT placed after its
; code (#GP(0) at CPL 3, EIP = end), with an exception, or when the watchdog gives up on it.
; Exceptions are reported the way Linux reports them to a 32-bit process (../native/runner.c reads
; them from the signal context): every IDT gate is DPL 0 except #BP and #OF (as in Linux), so
; INT n gives #GP(n*8+2); the TSS has no I/O permission bitmap, so CPL 3 port I/O gives #GP(0).
;
; Nothing the case can write is trusted between cases (paging is off, so CPL 3 can write anything):
; before each case the GDT, IDT, TSS, descriptor-table registers, segment registers and stack are
; rebuilt from constants, and the region and code page are rewritten.

bits 32
KERNEL_BASE     equ 0x100000
org KERNEL_BASE
%include "multiboot.inc"

; A count or length from a case record, kept within what the record can hold (as runner.c does).
%macro clamp_unsigned 2
    cmp %1, %2
    jbe %%within
    mov %1, %2
%%within:
%endmacro

; ---- must match ../layout.ts and ../case-format.ts ----
REGION_START    equ 0x1000          ; data page, then the stack page
REGION_SIZE     equ 0x2000
CODE_ADDR       equ 0x30000
RECORD_SIZE     equ 320
RECORD_EFLAGS   equ 32
RECORD_SEED     equ 36
RECORD_CODE_LEN equ 40
RECORD_PATCHES  equ 44
RECORD_PATCH0   equ 48              ; 8 patches of 16 bytes: u16 address, u8 length, pad, 12 bytes
PATCH_STRIDE    equ 16
MAX_PATCHES     equ 8
PATCH_BYTES     equ 12
RECORD_CODE     equ 176
CODE_MAX        equ RECORD_SIZE - RECORD_CODE
RESULT_HEADER   equ 13 * 4
NO_VECTOR       equ 0xffffffff
VECTOR_TIMEOUT  equ 0x100           ; what the interpreter runner reports for a case that never ends
PATTERN_ZERO_SEED equ 0x9e3779b9    ; memory-pattern.ts uses this when the seed is 0

; ---- this kernel ----
SEL_KCODE       equ 0x08
SEL_KDATA       equ 0x10
SEL_UCODE       equ 0x18 | 3
SEL_UDATA       equ 0x20 | 3
SEL_TSS         equ 0x28
GDT_ENTRIES     equ 6
TSS_SIZE        equ 104             ; no I/O permission bitmap after it
GATE_INTERRUPT_DPL0 equ 0x8e00
GATE_INTERRUPT_DPL3 equ 0xee00
STUB_SIZE       equ 16
; EFLAGS bits a CPL 3 POPFD changes (CF PF AF ZF SF DF OF NT AC ID): what the native trampoline's
; POPFD takes from the case; IF stays 1 and IOPL 0 as in a user process, TF is never set.
USER_FLAGS      equ 0x00244cd5
USER_FLAGS_FIXED equ 0x00000202
; The 8259 PICs and the 8254 PIT: IRQ 0 (the watchdog) arrives on vector 0x20.
PIC_VECTOR_BASE equ 0x20
TIMER_VECTOR    equ PIC_VECTOR_BASE
WATCHDOG_COUNT  equ 0xffff          ; 55 ms of QEMU's virtual clock (host time under TCG)
; A case is given up after this many expiries without reaching its end. The count restarts with
; each case, so a case that runs for microseconds never sees one unless the host stops QEMU for
; 55 ms; needing several keeps a loaded host from turning a normal case into a timeout.
WATCHDOG_EXPIRIES equ 8
CODE_GUARD      equ 0xf4            ; HLT: #GP(0) at CPL 3
CODE_GUARD_SPAN equ 160             ; guard bytes written first, the code over them (>= CODE_MAX + 1)
DEBUGCON_PORT   equ 0xe9
EXIT_PORT       equ 0xf4
EXIT_DONE       equ 0
EXIT_FAILED     equ 1

MULTIBOOT_HEADER

start:
    cli
    cld
    mov esp, kernel_stack_top
    FIRST_MODULE .not_multiboot, .no_module
    mov [next_case_record], eax
    mov ecx, edx                    ; a partial trailing record is ignored
    sub ecx, eax
    mov [cases_end], ecx
    mov eax, ecx
    xor edx, edx
    mov ecx, RECORD_SIZE
    div ecx
    sub [cases_end], edx
    mov eax, [next_case_record]
    add [cases_end], eax
    call init_interrupt_controller
    jmp run_next_case
.not_multiboot:
    mov esi, msg_not_multiboot
    jmp fail
.no_module:
    mov esi, msg_no_module
    jmp fail

; Remaps the master PIC to vectors 0x20-0x27 and leaves only IRQ 0 (the PIT) unmasked.
init_interrupt_controller:
    mov al, 0x11                    ; ICW1: edge triggered, cascade, ICW4 follows
    out 0x20, al
    out 0xa0, al
    mov al, PIC_VECTOR_BASE
    out 0x21, al
    mov al, PIC_VECTOR_BASE + 8
    out 0xa1, al
    mov al, 4                       ; slave on IRQ 2
    out 0x21, al
    mov al, 2
    out 0xa1, al
    mov al, 1                       ; 8086 mode
    out 0x21, al
    out 0xa1, al
    mov al, 0xfe
    out 0x21, al
    mov al, 0xff
    out 0xa1, al
    ret

; PIT channel 0, mode 0 (one interrupt at terminal count): writing the mode restarts the count.
arm_watchdog:
    mov al, 0x30
    out 0x43, al
    mov al, WATCHDOG_COUNT & 0xff
    out 0x40, al
    mov al, WATCHDOG_COUNT >> 8
    out 0x40, al
    ret

; ---- the case loop ----
run_next_case:
    mov esp, kernel_stack_top
    call rebuild_kernel_state
    mov esi, [next_case_record]
    cmp esi, [cases_end]
    jae all_cases_done
    lea eax, [esi + RECORD_SIZE]
    mov [next_case_record], eax
    call load_region
    call load_code
    mov dword [watchdog_expiries], 0
    call arm_watchdog
    ; IRET frame to CPL 3, then the case's registers for POPAD.
    push dword SEL_UDATA
    push dword [esi + 16]
    mov eax, [esi + RECORD_EFLAGS]
    and eax, USER_FLAGS
    or eax, USER_FLAGS_FIXED
    push eax
    push dword SEL_UCODE
    push dword CODE_ADDR
    push dword [esi + 0]            ; eax
    push dword [esi + 4]            ; ecx
    push dword [esi + 8]            ; edx
    push dword [esi + 12]           ; ebx
    push dword 0                    ; (esp: POPAD skips it)
    push dword [esi + 20]           ; ebp
    push dword [esi + 24]           ; esi
    push dword [esi + 28]           ; edi
    mov ax, SEL_UDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    popad
    iretd

all_cases_done:
    mov dx, EXIT_PORT
    mov al, EXIT_DONE
    out dx, al
.stop:
    hlt
    jmp .stop

; Everything the CPU consults to get back into this kernel, rebuilt from constants.
rebuild_kernel_state:
    mov dword [gdt + 0], 0
    mov dword [gdt + 4], 0
    mov dword [gdt + 8], 0x0000ffff
    mov dword [gdt + 12], 0x00cf9a00
    mov dword [gdt + 16], 0x0000ffff
    mov dword [gdt + 20], 0x00cf9200
    mov dword [gdt + 24], 0x0000ffff
    mov dword [gdt + 28], 0x00cffa00
    mov dword [gdt + 32], 0x0000ffff
    mov dword [gdt + 36], 0x00cff200
    mov dword [gdt + 40], ((TSS_ADDRESS & 0xffff) << 16) | (TSS_SIZE - 1)
    mov dword [gdt + 44], (TSS_ADDRESS & 0xff000000) | 0x8900 | ((TSS_ADDRESS >> 16) & 0xff) ; available 32-bit TSS
    mov word [gdt_register], GDT_ENTRIES * 8 - 1
    mov dword [gdt_register + 2], gdt
    lgdt [gdt_register]
    jmp SEL_KCODE:.reload_cs
.reload_cs:
    mov ax, SEL_KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov edi, tss
    xor eax, eax
    mov ecx, TSS_SIZE / 4
    rep stosd
    mov dword [tss + 4], kernel_stack_top    ; ESP0
    mov dword [tss + 8], SEL_KDATA           ; SS0
    mov word [tss + 102], TSS_SIZE           ; I/O map base beyond the limit: no bitmap
    mov ax, SEL_TSS
    ltr ax
    ; IDT: vector v -> interrupt_stubs + v * STUB_SIZE.
    xor ecx, ecx
    mov eax, interrupt_stubs
.gate:
    mov edx, eax
    and edx, 0xffff
    or edx, SEL_KCODE << 16
    mov [idt + ecx * 8], edx
    mov edx, eax
    and edx, 0xffff0000
    or edx, GATE_INTERRUPT_DPL0
    cmp ecx, 3                      ; INT3 and INTO are DPL 3 gates in Linux
    je .user_gate
    cmp ecx, 4
    jne .store_gate
.user_gate:
    or edx, GATE_INTERRUPT_DPL3
.store_gate:
    mov [idt + ecx * 8 + 4], edx
    add eax, STUB_SIZE
    inc ecx
    cmp ecx, 256
    jb .gate
    mov word [idt_register], 256 * 8 - 1
    mov dword [idt_register + 2], idt
    lidt [idt_register]
    ret

; esi = case record. Fills the data and stack pages and the copy they are compared with after
; the case: xorshift32 words from the seed (memory-pattern.ts), then the patches.
load_region:
    mov eax, [esi + RECORD_SEED]
    test eax, eax
    jnz .seeded
    mov eax, PATTERN_ZERO_SEED
.seeded:
    mov edi, REGION_START
.fill:
    mov edx, eax
    shl edx, 13
    xor eax, edx
    mov edx, eax
    shr edx, 17
    xor eax, edx
    mov edx, eax
    shl edx, 5
    xor eax, edx
    mov [edi], eax
    mov [edi + initial_region - REGION_START], eax
    add edi, 4
    cmp edi, REGION_START + REGION_SIZE
    jb .fill
    mov ebx, [esi + RECORD_PATCHES]
    clamp_unsigned ebx, MAX_PATCHES
    lea ebp, [esi + RECORD_PATCH0]
.patch:
    test ebx, ebx
    jz .patched
    movzx edi, word [ebp]           ; guest address of the first byte
    movzx ecx, byte [ebp + 2]       ; length
    clamp_unsigned ecx, PATCH_BYTES
    xor edx, edx
.patch_byte:
    cmp edx, ecx
    jae .next_patch
    lea eax, [edi + edx - REGION_START]
    cmp eax, REGION_SIZE            ; bytes outside the region are ignored, as in runner.c
    jae .skip_byte
    push ecx
    mov cl, [ebp + 4 + edx]
    mov [eax + REGION_START], cl
    mov [eax + initial_region], cl
    pop ecx
.skip_byte:
    inc edx
    jmp .patch_byte
.next_patch:
    add ebp, PATCH_STRIDE
    dec ebx
    jmp .patch
.patched:
    ret

; esi = case record. The code, then HLT guards up to CODE_GUARD_SPAN.
load_code:
    mov edi, CODE_ADDR
    mov eax, CODE_GUARD * 0x01010101
    mov ecx, CODE_GUARD_SPAN / 4
    rep stosd
    mov ecx, [esi + RECORD_CODE_LEN]
    clamp_unsigned ecx, CODE_MAX
    lea eax, [CODE_ADDR + ecx]
    mov [code_end], eax
    push esi
    add esi, RECORD_CODE
    mov edi, CODE_ADDR
    rep movsb
    pop esi
    ret

; ---- interrupts and exceptions ----
; One 16-byte stub per vector pushes an error code where the CPU does not (0, as Linux reports
; for those) and the vector, so every entry has the same frame.
align STUB_SIZE
interrupt_stubs:
%assign vector 0
%rep 256
%if vector = 8 || (vector >= 10 && vector <= 14) || vector = 17 || vector = 21 || vector = 29 || vector = 30
    push strict dword vector
%else
    push strict dword 0
    push strict dword vector
%endif
    jmp interrupt_common
    times interrupt_stubs + (vector + 1) * STUB_SIZE - $ db 0xcc
%assign vector vector + 1
%endrep

; Frame after interrupt_common's pushes (from CPL 3: the CPU switched to ESP0 and pushed SS:ESP).
FRAME_ES        equ 0
FRAME_DS        equ 4
FRAME_EDI       equ 8
FRAME_ESI       equ 12
FRAME_EBP       equ 16
FRAME_EBX       equ 24
FRAME_EDX       equ 28
FRAME_ECX       equ 32
FRAME_EAX       equ 36
FRAME_VECTOR    equ 40
FRAME_ERROR     equ 44
FRAME_EIP       equ 48
FRAME_CS        equ 52
FRAME_EFLAGS    equ 56
FRAME_USER_ESP  equ 60

; Copies frame dwords (the arguments, frame offsets) to consecutive dwords of `result`, from its start.
%macro copy_frame_to_result 1-*
%assign into 0
%rep %0
    mov eax, [esp + %1]
    mov [result + into], eax
%assign into into + 4
%rotate 1
%endrep
%endmacro

interrupt_common:
    pushad
    push ds
    push es
    mov ax, SEL_KDATA
    mov ds, ax
    mov es, ax
    cld                             ; the case's DF survives the gate
    test byte [esp + FRAME_CS], 3
    jz kernel_fault
    mov eax, [esp + FRAME_VECTOR]
    cmp eax, PIC_VECTOR_BASE
    jb case_ended                   ; an exception: software INT n from CPL 3 is #GP (DPL 0 gates)
    cmp eax, PIC_VECTOR_BASE + 16
    jae case_ended
    ; A hardware interrupt (only IRQ 0 is unmasked; others would be spurious).
    cmp eax, PIC_VECTOR_BASE + 8
    jb .master_eoi
    mov al, 0x20
    out 0xa0, al
.master_eoi:
    mov al, 0x20
    out 0x20, al
    cmp dword [esp + FRAME_VECTOR], TIMER_VECTOR
    jne resume_case
    inc dword [watchdog_expiries]
    cmp dword [watchdog_expiries], WATCHDOG_EXPIRIES
    jae .give_up
    call arm_watchdog
    jmp resume_case
.give_up:
    mov dword [esp + FRAME_VECTOR], VECTOR_TIMEOUT
    jmp case_ended

; Back to the interrupted case, unchanged.
resume_case:
    pop es
    pop ds
    popad
    add esp, 8
    iretd

; Records the final state and changed bytes, writes the result record, runs the next case.
case_ended:
    mov eax, [esp + FRAME_VECTOR]
    mov edx, [esp + FRAME_ERROR]
    cmp eax, 13                     ; #GP(0) at the HLT after the code: the case ran to its end
    jne .record
    test edx, edx
    jnz .record
    mov ecx, [esp + FRAME_EIP]
    cmp ecx, [code_end]
    jne .record
    mov eax, NO_VECTOR
.record:
    mov [result + 40], eax
    mov [result + 44], edx
    ; The result header's first ten dwords: EAX..EDI in register-number order, EFLAGS, EIP.
    copy_frame_to_result FRAME_EAX, FRAME_ECX, FRAME_EDX, FRAME_EBX, FRAME_USER_ESP, FRAME_EBP, FRAME_ESI, FRAME_EDI, FRAME_EFLAGS, FRAME_EIP
    ; Changed bytes, ascending: find differing dwords with REPE CMPSD, then their bytes.
    mov esi, REGION_START
    mov edi, initial_region
    mov ecx, REGION_SIZE / 4
    mov ebx, result + RESULT_HEADER
.scan:
    repe cmpsd
    je .scanned
    lea edx, [esi - 4]
.changed_byte:
    movzx eax, byte [edx]
    cmp al, [edx + initial_region - REGION_START]
    je .same_byte
    mov ebp, edx
    shl ebp, 8
    or ebp, eax
    mov [ebx], ebp
    add ebx, 4
.same_byte:
    inc edx
    cmp edx, esi
    jb .changed_byte
    test ecx, ecx
    jnz .scan
.scanned:
    mov ecx, ebx
    sub ebx, result + RESULT_HEADER
    shr ebx, 2
    mov [result + 48], ebx
    sub ecx, result
    mov esi, result
    mov dx, DEBUGCON_PORT
    rep outsb
    jmp run_next_case

; A fault in this kernel (not in a case): report it after the last complete result and stop.
kernel_fault:
    call write_failure_mark
    mov esi, msg_kernel_fault
    call write_text
    mov eax, [esp + FRAME_VECTOR]
    call write_hex
    mov esi, msg_error
    call write_text
    mov eax, [esp + FRAME_ERROR]
    call write_hex
    mov esi, msg_eip
    call write_text
    mov eax, [esp + FRAME_EIP]
    call write_hex
    mov esi, msg_newline
    call write_text
    jmp exit_failed

fail:                               ; esi = message
    mov esp, kernel_stack_top
    push esi
    call write_failure_mark
    pop esi
    call write_text
exit_failed:
    mov dx, EXIT_PORT
    mov al, EXIT_FAILED
    out dx, al
.stop:
    cli
    hlt
    jmp .stop

; A NUL, then 'case-kernel: ': what qemu-runner.ts looks for after the results.
write_failure_mark:
    mov dx, DEBUGCON_PORT
    xor al, al
    out dx, al
    mov esi, failure_mark
    ; falls through to write_text

write_text:                         ; esi = zero-terminated text
    mov dx, DEBUGCON_PORT
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    ret

write_hex:                          ; eax, 8 digits
    mov ecx, 8
    mov dx, DEBUGCON_PORT
.digit:
    rol eax, 4
    mov ebx, eax
    and ebx, 15
    push eax
    mov al, [hex_digits + ebx]
    out dx, al
    pop eax
    loop .digit
    ret

hex_digits:        db '0123456789abcdef'
failure_mark:      db 'case-kernel: ', 0
msg_not_multiboot: db 'not started by a multiboot loader', 10, 0
msg_no_module:     db 'no multiboot module (the cases: -initrd cases.bin)', 10, 0
msg_kernel_fault:  db 'fault in the kernel itself: vector ', 0
msg_error:         db ' error ', 0
msg_eip:           db ' eip ', 0
msg_newline:       db 10, 0

; ---- data: on pages of their own, so that writing them never invalidates QEMU's translated code ----
align 4096
gdt:                times GDT_ENTRIES dq 0
gdt_register:       dw 0
                    dd 0
align 8
idt_register:       dw 0
                    dd 0
next_case_record:   dd 0
cases_end:          dd 0
code_end:           dd 0
watchdog_expiries:  dd 0
align 16
tss:                times TSS_SIZE db 0
TSS_ADDRESS         equ tss - $$ + KERNEL_BASE      ; as a number, for the descriptor's bit fields
align 8
idt:                times 256 dq 0
image_end:

absolute image_end
alignb 4096
initial_region:     resb REGION_SIZE
result:             resb RESULT_HEADER + REGION_SIZE * 4
alignb 16
kernel_stack:       resb 4096
kernel_stack_top:
bss_end:

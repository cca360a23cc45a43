; The TSS debug trap in a whole multiboot kernel (scripts/systest/lib.inc): a JMP to a task whose
; 32-bit TSS has the T bit set must raise #DB with DR6.BT before the task's first instruction.
; Not a QEMU-compared system test: QEMU's TCG ignores the T bit (it prints no "db:" line).
%include "lib.inc"

test_main:
    mov dword [tss2 + 0x20], task2_entry
    mov dword [tss2 + 0x24], 0x2
    mov dword [tss2 + 0x38], STACK_TSS2
    mov word [tss2 + 0x48], SEL_DATA0
    mov word [tss2 + 0x4c], SEL_CODE0
    mov word [tss2 + 0x50], SEL_DATA0
    mov word [tss2 + 0x54], SEL_DATA0
    mov word [tss2 + 0x58], SEL_DATA0
    mov word [tss2 + 0x5c], SEL_DATA0
    mov word [tss2 + 0x64], 1                  ; T bit
    mov word [tss2 + 0x66], 104
    mov edi, gdt_tss2
    mov eax, tss2
    mov ecx, tss2_end - tss2 - 1
    call set_tss_descriptor
    mov eax, db_handler
    mov ebx, 1
    mov ecx, 0x8e
    mov dx, SEL_CODE0
    call set_gate
    xor eax, eax
    mov dr6, eax
    PRINT_LINE 'jmp to a task with T set'
    jmp SEL_TSS2:0
task1_resume:
    PRINT_LINE 'back in task 1'
    PRINT_HEX 'db count', [db_count]
    call newline
    ret

db_handler:
    inc dword [db_count]
    push eax
    mov eax, dr6
    and eax, 0x0000e00f
    PRINT_HEX 'db: dr6 bits', eax
    mov eax, [esp + 4]
    sub eax, task2_entry
    PRINT_HEX 'eip - task2_entry', eax
    str ax
    movzx eax, ax
    PRINT_HEX 'tr', eax
    call newline
    xor eax, eax
    mov dr6, eax
    pop eax
    iretd

task2_entry:
    PRINT_LINE 'in task 2'
    PRINT_HEX 'db count', [db_count]
    call newline
    jmp SEL_TSS:0

db_count: dd 0
image_end:

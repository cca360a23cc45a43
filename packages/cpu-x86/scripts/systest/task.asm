; Hardware task switching: INT through a task gate (nested task: back link, NT, busy bits), IRET
; back to the outer task, far JMP to a TSS (no nesting), registers saved in and loaded from TSSs.
%include "lib.inc"

test_main:
    ; second task: flat ring-0 segments, its own stack, starts at task2_entry
    mov dword [tss2 + 0x20], task2_entry       ; eip
    mov dword [tss2 + 0x24], 0x2               ; eflags
    mov dword [tss2 + 0x38], STACK_TSS2        ; esp
    mov dword [tss2 + 0x28], 0x22222222        ; eax
    mov dword [tss2 + 0x34], 0x33333333        ; ebx... (offset 0x34 = ebx)
    mov word [tss2 + 0x48], SEL_DATA0          ; es
    mov word [tss2 + 0x4c], SEL_CODE0          ; cs
    mov word [tss2 + 0x50], SEL_DATA0          ; ss
    mov word [tss2 + 0x54], SEL_DATA0          ; ds
    mov word [tss2 + 0x58], SEL_DATA0          ; fs
    mov word [tss2 + 0x5c], SEL_DATA0          ; gs
    mov word [tss2 + 0x66], 104
    mov edi, gdt_tss2
    mov eax, tss2
    mov ecx, tss2_end - tss2 - 1
    call set_tss_descriptor
    ; task gate for vector 0x90
    mov eax, 0
    mov ebx, 0x90
    mov ecx, 0x85
    mov dx, SEL_TSS2
    call set_gate

    PRINT_LINE 'task 1 start'
    call print_task_state
    mov eax, 0xaaaa0001
    mov ebx, 0xbbbb0001
    int 0x90                                   ; nested switch to task 2
    PRINT_LINE 'back in task 1 after IRET'
    PRINT_HEX 'eax', eax
    PRINT_HEX 'ebx', ebx
    call newline
    call print_task_state
    PRINT_HEX 'tss2 eip', [tss2 + 0x20]
    PRINT_HEX 'tss2 eax', [tss2 + 0x28]
    PRINT_HEX 'tss1 eax', [tss + 0x28]
    call newline
    mov eax, 0xaaaa0002
    jmp SEL_TSS2:0                             ; non-nested switch
task1_resume:
    PRINT_LINE 'back in task 1 after JMP'
    PRINT_HEX 'eax', eax
    call newline
    call print_task_state
    PRINT_LINE 'switch to busy task:'
    TRY
    jmp SEL_TSS:0
    ENDTRY
    ret

; prints TR, EFLAGS.NT, the back link of TSS2 and the type bytes of both TSS descriptors
print_task_state:
    pushad
    str ax
    movzx eax, ax
    PRINT_HEX 'tr', eax
    pushfd
    pop eax
    and eax, 0x4000
    PRINT_HEX 'nt', eax
    movzx eax, word [tss2]
    PRINT_HEX 'tss2 link', eax
    movzx eax, byte [gdt_tss + 5]
    PRINT_HEX 'tss1 type', eax
    movzx eax, byte [gdt_tss2 + 5]
    PRINT_HEX 'tss2 type', eax
    call newline
    popad
    ret

task2_entry:
    PRINT_LINE 'in task 2 (nested)'
    PRINT_HEX 'eax', eax
    PRINT_HEX 'ebx', ebx
    call newline
    call print_task_state
    mov eax, 0x22220001
    iretd                                      ; NT=1: back to task 1
    PRINT_LINE 'in task 2 again (jmp)'
    PRINT_HEX 'eax', eax
    call newline
    call print_task_state
    mov eax, 0x22220002
    jmp SEL_TSS:0

image_end:

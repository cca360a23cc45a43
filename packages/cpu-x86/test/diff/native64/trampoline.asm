; Long-mode side of the differential tester (see runner.c): enters a translated test snippet with the
; case's registers (zero-extended) and flags, and catches its final state when it jumps to tv_exit.
; The data and stack pages are mapped at their guest addresses, so no segment is needed: in 64-bit
; mode the bases of DS, ES and SS are 0 anyway.

bits 64
default rel

section .data
global tv_code_entry
tv_code_entry: dq 0                 ; address of the snippet
host_rsp: dq 0

section .bss
global tv_in, tv_out
tv_in:  resd 9                      ; eax ecx edx ebx esp ebp esi edi eflags
tv_out: resd 10                     ; eax ecx edx ebx esp ebp esi edi eflags eip

section .text
global tv_enter, tv_exit

; void tv_enter(void): runs the snippet described by tv_in; returns with tv_out filled.
tv_enter:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [host_rsp], rsp
    mov eax, [tv_in + 32]
    push rax
    popfq                           ; flags first: nothing below changes them
    mov ecx, [tv_in + 4]            ; 32-bit moves clear the upper halves
    mov edx, [tv_in + 8]
    mov ebx, [tv_in + 12]
    mov ebp, [tv_in + 20]
    mov esi, [tv_in + 24]
    mov edi, [tv_in + 28]
    mov eax, [tv_in + 0]
    mov esp, [tv_in + 16]
    jmp [tv_code_entry]

; The snippet ends with a jump here. Only MOVs run before PUSHFQ, so the flags are the snippet's.
tv_exit:
    mov [tv_out + 0], eax
    mov [tv_out + 4], ecx
    mov [tv_out + 8], edx
    mov [tv_out + 12], ebx
    mov [tv_out + 16], esp
    mov [tv_out + 20], ebp
    mov [tv_out + 24], esi
    mov [tv_out + 28], edi
    mov rsp, [host_rsp]
    pushfq
    pop rax
    mov [tv_out + 32], eax
    push qword 0x202                ; a clean host RFLAGS (DF, NT, AC cleared)
    popfq
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

section .note.GNU-stack noalloc noexec nowrite progbits

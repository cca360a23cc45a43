; Native side of the differential tester: enters a test snippet with the case's registers and flags,
; and catches the snippet's final state when it jumps back to tv_exit.
;
; While the snippet runs, DS, ES and SS hold an LDT "window" selector whose base is the native
; address of guest address 0, so guest addresses (including 16-bit effective addresses) are the
; same numbers here as in the interpreter's flat memory. CS stays flat: the code page lives at the
; same linear address on both sides.

bits 32

section .data
global tv_window_selector, tv_code_entry
tv_window_selector: dd 0            ; LDT selector of the guest window (set by runner.c)
tv_code_entry:      dd 0            ; linear address of the snippet
host_ds: dd 0
host_es: dd 0
host_ss: dd 0
host_esp: dd 0

section .bss
global tv_in, tv_out
tv_in:  resd 9                      ; eax ecx edx ebx esp ebp esi edi eflags
tv_out: resd 10                     ; eax ecx edx ebx esp ebp esi edi eflags eip

section .text
global tv_enter, tv_exit

; void tv_enter(void): runs the snippet described by tv_in; returns with tv_out filled.
tv_enter:
    push ebp
    push ebx
    push esi
    push edi
    mov [host_esp], esp
    mov [host_ds], ds
    mov [host_es], es
    mov [host_ss], ss
    push dword [tv_in + 32]
    popfd                           ; flags first: nothing below changes them
    mov ecx, [tv_in + 4]
    mov edx, [tv_in + 8]
    mov ebx, [tv_in + 12]
    mov ebp, [tv_in + 20]
    mov esi, [tv_in + 24]
    mov edi, [tv_in + 28]
    mov eax, [tv_in + 0]
    mov ss, [cs:tv_window_selector]
    mov esp, [cs:tv_in + 16]
    mov es, [cs:tv_window_selector]
    mov ds, [cs:tv_window_selector]
    jmp [cs:tv_code_entry]

; The snippet ends with a jump here. Only MOVs run before PUSHFD, so the flags are the snippet's.
tv_exit:
    mov ds, [cs:host_ds]
    mov [tv_out + 0], eax
    mov [tv_out + 4], ecx
    mov [tv_out + 8], edx
    mov [tv_out + 12], ebx
    mov [tv_out + 16], esp
    mov [tv_out + 20], ebp
    mov [tv_out + 24], esi
    mov [tv_out + 28], edi
    mov es, [host_es]
    mov ss, [host_ss]
    mov esp, [host_esp]
    pushfd
    pop dword [tv_out + 32]
    push dword 0x202                ; a clean host EFLAGS (DF, NT, AC cleared)
    popfd
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

section .note.GNU-stack noalloc noexec nowrite progbits

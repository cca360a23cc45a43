; Virtual-8086 mode: entry through IRET with VM=1, real-mode style addressing, INT n to a
; protected-mode handler (what the CPU pushes, VM cleared, data segments nulled), IRET back into
; v8086, IOPL-sensitive instructions faulting with IOPL < 3, exit to ring 0.
%include "lib.inc"

V86_BASE equ 0x8000                     ; v8086 code is copied here (CS = 0x0800, IP = 0)
%define V86(label) (label - v86_start)

test_main:
    call install_ring3_return
    mov eax, v86_int_handler
    mov ebx, 0x30
    mov ecx, 0xee
    mov dx, SEL_CODE0
    call set_gate
    mov esi, v86_start
    mov edi, V86_BASE
    mov ecx, v86_end - v86_start
    rep movsb

    PRINT_LINE 'enter v8086, IOPL 3:'
    TRY
    mov ecx, 0x23002                    ; VM, IOPL 3
    mov eax, V86(v86_main)
    call enter_v86
    ENDTRY
    PRINT_HEX 'word at 12350', [0x12350]
    call newline
    PRINT_LINE 'enter v8086, IOPL 0, CLI:'
    TRY
    mov ecx, 0x20002
    mov eax, V86(v86_cli)
    call enter_v86
    ENDTRY
    PRINT_LINE 'enter v8086, IOPL 0, INT:'
    TRY
    mov ecx, 0x20002
    mov eax, V86(v86_int)
    call enter_v86
    ENDTRY
    PRINT_LINE 'enter v8086, IOPL 0, PUSHF:'
    TRY
    mov ecx, 0x20002
    mov eax, V86(v86_pushf)
    call enter_v86
    ENDTRY
    ret

; eax = IP, ecx = EFLAGS. Segments: CS = DS = 0x0800, ES = 0x0900, FS = 0x0a00, GS = 0x0b00, SS:SP = 0600:0ff0
enter_v86:
    mov [ring3_saved_esp], esp
    push dword 0x0b00
    push dword 0x0a00
    push dword 0x0800
    push dword 0x0900
    push dword 0x0600
    push dword 0x0ff0
    push ecx
    push dword 0x0800
    push eax
    iretd

v86_int_handler:
    ; DS..GS are null here (the CPU cleared them on leaving v8086): address through SS.
    mov [ss:saved_eax], eax
    mov ax, ds
    mov [ss:handler_ds], ax
    mov ax, SEL_DATA0
    mov ds, ax
    PRINT 'pm handler: '
    movzx eax, word [handler_ds]
    PRINT_HEX 'ds', eax
    PRINT_HEX 'eax', [saved_eax]
    PRINT_HEX 'eip', [esp]
    PRINT_HEX 'cs', [esp + 4]
    PRINT_HEX 'eflags', [esp + 8]
    PRINT_HEX 'esp', [esp + 12]
    PRINT_HEX 'ss', [esp + 16]
    PRINT_HEX 'es', [esp + 20]
    PRINT_HEX 'ds', [esp + 24]
    PRINT_HEX 'fs', [esp + 28]
    PRINT_HEX 'gs', [esp + 32]
    call newline
    mov eax, [saved_eax]
    iretd

saved_eax: dd 0
handler_ds: dw 0

bits 16
v86_start:
v86_print:                              ; ds:si
    push ax
    push dx
    mov dx, 0xe9
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    pop dx
    pop ax
    ret
v86_main:
    mov si, V86(msg_hello)
    call v86_print
    mov ax, 0x1234
    mov es, ax
    mov word [es:0x10], 0xbeef
    pushf
    pop bx
    mov ax, 0x5678
    int 0x30
    mov si, V86(msg_back)
    call v86_print
    int 0x80
v86_cli:
    cli
v86_int:
    int 0x30
v86_pushf:
    pushf
msg_hello: db 'hello from v8086', 10, 0
msg_back:  db 'back in v8086', 10, 0
v86_end:
bits 32

image_end:

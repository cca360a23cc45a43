; Real mode: leave protected mode through a 16-bit segment, run in real mode (segment arithmetic,
; IVT-based INT/IRET, "unreal" 4 GiB FS limit kept from protected mode), and come back.
%include "lib.inc"

RM_BASE equ 0x7000
%define RM(label) (label - rm_start + RM_BASE)

test_main:
    mov esi, rm_start
    mov edi, RM_BASE
    mov ecx, rm_end - rm_start
    rep movsb
    mov [saved_esp], esp
    sidt [saved_idt]
    PRINT_LINE 'to real mode'
    jmp SEL_CODE16:RM(pm16)
back_in_pm:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, [saved_esp]
    lidt [saved_idt]
    PRINT_LINE 'back in protected mode'
    PRINT_HEX 'word at 0x500', [0x500]
    PRINT_HEX 'unreal read', [0x600]
    PRINT_HEX 'int flags', [0x604]
    call newline
    ret

saved_esp: dd 0
saved_idt: dw 0
           dd 0

bits 16
rm_start:
pm16:
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ax, SEL_DATA0                   ; 4 GiB limit: survives the switch to real mode
    mov fs, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0:RM(real)
real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x6000
    lidt [RM(ivt_descriptor)]
    mov si, RM(msg_real)
    call rm_print
    ; segment arithmetic: 0x0040:0x0100 is linear 0x500
    mov ax, 0x0040
    mov es, ax
    mov word [es:0x100], 0x4321
    ; unreal mode: FS still has the flat 4 GiB limit
    mov eax, [fs:dword 0x100000]
    mov [0x600], eax
    ; IVT interrupt
    mov word [0x50 * 4], RM(rm_int_handler)
    mov word [0x50 * 4 + 2], 0
    stc
    int 0x50
    mov si, RM(msg_after_int)
    call rm_print
    ; back to protected mode
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword SEL_CODE0:back_in_pm

rm_int_handler:
    pushf
    pop ax
    mov [0x604], ax                     ; FLAGS inside the handler: IF and TF cleared
    mov si, RM(msg_int)
    call rm_print
    iret

rm_print:
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

ivt_descriptor:
    dw 0x3ff
    dd 0
msg_real: db 'in real mode', 10, 0
msg_int: db 'in real-mode interrupt handler', 10, 0
msg_after_int: db 'after IRET', 10, 0
rm_end:
bits 32

image_end:

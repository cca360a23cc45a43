; Privilege changes: IRET to ring 3, interrupt and trap gates from ring 3 (stack switch to the TSS
; ESP0, what is pushed), a gate with DPL 0, a call gate with a parameter, faults in ring 3 with the
; ring-3 frame, data segment nulling on return to ring 3. (#AC is not here: QEMU's TCG oracle does
; not implement alignment checking, see docs/quirks.md.)
%include "lib.inc"

test_main:
    call install_ring3_return
    mov eax, gate_handler
    mov ebx, 0x81
    mov ecx, 0xee                       ; DPL 3 interrupt gate
    mov dx, SEL_CODE0
    call set_gate
    mov eax, gate_handler
    mov ebx, 0x82
    mov ecx, 0xef                       ; DPL 3 trap gate
    call set_gate
    mov eax, gate_handler
    mov ebx, 0x83
    mov ecx, 0x8e                       ; DPL 0 interrupt gate
    call set_gate
    mov eax, return_nulls_ds
    mov ebx, 0x84
    mov ecx, 0xee
    call set_gate
    ; call gate: DPL 3, 1 parameter, target SEL_CODE0:callgate_target
    mov eax, callgate_target
    mov [gdt_callgate], ax
    mov word [gdt_callgate + 2], SEL_CODE0
    mov byte [gdt_callgate + 4], 1
    mov byte [gdt_callgate + 5], 0xec
    shr eax, 16
    mov [gdt_callgate + 6], ax

    PRINT_LINE 'ring 3 via IRET, gates:'
    TRY
    mov eax, ring3_gates
    mov ecx, 0x3002                     ; IOPL 3 so ring 3 can print
    call enter_ring3
    ENDTRY
    PRINT_LINE 'ring 3 privileged instructions:'
    TRY
    mov eax, ring3_hlt
    mov ecx, 0x3002
    call enter_ring3
    ENDTRY
    TRY
    mov eax, ring3_cli
    mov ecx, 0x0002                     ; IOPL 0
    call enter_ring3
    ENDTRY
    TRY
    mov eax, ring3_mov_cr
    mov ecx, 0x3002
    call enter_ring3
    ENDTRY
    TRY
    mov eax, ring3_load_ds0
    mov ecx, 0x3002
    call enter_ring3
    ENDTRY
    TRY
    mov eax, ring3_dpl0_gate
    mov ecx, 0x3002
    call enter_ring3
    ENDTRY
    ret

; Ring-0 side of the gates: print CPL, the stack pointer (ESP0 minus the frame) and the frame.
gate_handler:
    push eax
    mov ax, SEL_DATA0
    mov ds, ax
    pop eax
    PRINT 'gate: '
    PRINT_HEX 'cs', cs
    mov [saved_esp], esp
    PRINT_HEX 'esp', [saved_esp]
    PRINT_HEX 'eip', [esp]
    PRINT_HEX 'ret cs', [esp + 4]
    PRINT_HEX 'eflags', [esp + 8]
    PRINT_HEX 'ret esp', [esp + 12]
    PRINT_HEX 'ret ss', [esp + 16]
    pushfd
    pop eax
    and eax, 0x200
    PRINT_HEX 'IF', eax
    call newline
    mov ax, SEL_DATA3
    mov ds, ax
    iretd

callgate_target:
    push eax
    mov ax, SEL_DATA0
    mov ds, ax
    pop eax
    PRINT 'call gate: '
    PRINT_HEX 'cs', cs
    PRINT_HEX 'param', [esp + 8]
    PRINT_HEX 'ret cs', [esp + 4]
    PRINT_HEX 'ret ss', [esp + 16]
    call newline
    mov ax, SEL_DATA3
    mov ds, ax
    retf 4

; Returns to ring 3 with DS/ES holding ring-0 selectors: IRET must null them.
return_nulls_ds:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov fs, ax
    iretd

ring3_gates:
    PRINT 'ring 3: '
    PRINT_HEX 'cs', cs
    PRINT_HEX 'ss', ss
    PRINT_HEX 'esp', esp
    call newline
    mov eax, 0x11111111
    int 0x81
    int 0x82
    push dword 0x5a5a
    call SEL_CALLG:0
    mov ax, SEL_DATA3
    mov fs, ax
    int 0x84
    mov ax, ds
    mov cx, es
    mov dx, fs
    mov bx, SEL_DATA3
    mov ds, bx
    movzx eax, ax
    movzx ecx, cx
    movzx edx, dx
    PRINT 'after IRET to ring 3: '
    PRINT_HEX 'ds', eax
    PRINT_HEX 'es', ecx
    PRINT_HEX 'fs', edx
    call newline
    int 0x80
ring3_hlt:
    hlt
ring3_cli:
    cli
ring3_mov_cr:
    mov eax, cr0
ring3_load_ds0:
    mov ax, SEL_DATA0
    mov ds, ax
ring3_dpl0_gate:
    int 0x83
saved_esp: dd 0

image_end:

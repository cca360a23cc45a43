; Exceptions and their error codes: segment register loads (#GP/#NP/#SS with the selector), IDT
; gate faults, #DE #UD #BR #OF #BP #NM. Data-segment limit and access-right checks are not here:
; QEMU's TCG oracle does not enforce them (see docs/quirks.md); unit tests cover those.
%include "lib.inc"

test_main:
    PRINT_LINE 'DS beyond GDT limit:'
    TRY
    mov ax, 0x400
    mov ds, ax
    ENDTRY
    PRINT_LINE 'DS not present:'
    TRY
    mov ax, SEL_NOTPRES
    mov ds, ax
    ENDTRY
    PRINT_LINE 'SS not present:'
    TRY
    mov ax, SEL_NOTPRES
    mov ss, ax
    ENDTRY
    PRINT_LINE 'SS read-only:'
    TRY
    mov ax, SEL_RODATA
    mov ss, ax
    ENDTRY
    PRINT_LINE 'DS execute-only code:'
    TRY
    mov ax, SEL_CODE0B
    mov ds, ax
    ENDTRY
    PRINT_LINE 'SS null:'
    TRY
    xor ax, ax
    mov ss, ax
    ENDTRY
    PRINT_LINE 'far jump to null selector:'
    TRY
    jmp 0:0
    ENDTRY
    PRINT_LINE 'INT to not-present gate:'
    TRY
    int 0x50
    ENDTRY
    PRINT_LINE 'INT beyond IDT limit:'
    lidt [short_idt]
    TRY
    int 0x40
    ENDTRY
    lidt [idt_descriptor]
    PRINT_LINE 'divide by zero:'
    TRY
    xor edx, edx
    mov eax, 1
    xor ecx, ecx
    div ecx
    ENDTRY
    PRINT_LINE 'UD2:'
    TRY
    ud2
    ENDTRY
    PRINT_LINE 'BOUND:'
    TRY
    mov eax, 100
    bound eax, [bounds]
    ENDTRY
    PRINT_LINE 'INTO:'
    TRY
    mov al, 0x7f
    add al, 1
    into
    ENDTRY
    PRINT_LINE 'INT3:'
    TRY
    int3
    ENDTRY
    PRINT_LINE 'FPU with CR0.TS:'
    mov eax, cr0
    or eax, 8
    mov cr0, eax
    TRY
    fninit
    ENDTRY
    clts
    ret

align 4
scratch: dd 0
bounds: dd 0, 10
short_idt:
    dw 0x40 * 8 - 1
    dd idt

image_end:

; Paging: 4 KiB and 4 MiB (PSE) pages, #PF error codes and CR2, CR0.WP, accessed/dirty bits,
; INVLPG after remapping, user access to a supervisor page, fetch from a not-present page.
%include "lib.inc"

PD  equ 0x200000
PT0 equ 0x201000

test_main:
    call install_ring3_return
    ; identity map 0..4 MiB with 4 KiB user pages, 4..8 MiB with one 4 MiB page
    mov edi, PT0
    mov eax, 7
    mov ecx, 1024
.fill:
    mov [edi], eax
    add eax, 0x1000
    add edi, 4
    loop .fill
    mov edi, PD
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PD], PT0 | 7
    mov dword [PD + 4], 0x400000 | 0x87
    mov eax, PD
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    PRINT_LINE 'paging on'

    mov dword [0x400100], 0x12345678
    PRINT_HEX '4M page read', [0x400100]
    call newline

    PRINT_LINE 'read not-present:'
    mov dword [PT0 + 0x300 * 4], 0
    invlpg [0x300000]
    TRY
    mov eax, [0x300123]
    ENDTRY

    PRINT_LINE 'write not-present:'
    TRY
    mov dword [0x300456], 1
    ENDTRY

    PRINT_LINE 'fetch not-present:'
    TRY
    call 0x300000
    ENDTRY

    ; Accesses split across the present page 0x2ff000 and the not-present 0x300000: #PF with CR2
    ; at the first byte of the second page, and a faulting store writes no byte of the first one.
    mov dword [0x2ffff0], 0x11111111
    mov dword [0x2ffff4], 0x22222222
    mov dword [0x2ffff8], 0x33333333
    mov dword [0x2ffffc], 0x44444444
    PRINT_LINE 'split dword read:'
    TRY
    mov eax, [0x2ffffe]
    ENDTRY
    PRINT_LINE 'split dword write:'
    TRY
    mov dword [0x2ffffe], 0xaaaaaaaa
    ENDTRY
    PRINT_LINE 'split dword write at fff:'
    TRY
    mov dword [0x2fffff], 0xaaaaaaaa
    ENDTRY
    PRINT_LINE 'split word write:'
    TRY
    mov word [0x2fffff], 0xbbbb
    ENDTRY
    PRINT_LINE 'split fst qword:'
    fninit
    fldpi
    TRY
    fst qword [0x2ffffa]
    ENDTRY
    PRINT_HEX 'kept', [0x2ffff0]
    PRINT_HEX 'kept', [0x2ffff4]
    PRINT_HEX 'kept', [0x2ffff8]
    PRINT_HEX 'kept', [0x2ffffc]
    call newline
    ; QEMU writes the first page's part of these before it faults on the second page, so only
    ; their CR2 is compared here (test/fpu-routing-and-errors.test.ts and
    ; test/system-instructions.test.ts check that they write nothing).
    PRINT_LINE 'split sgdt:'
    TRY
    sgdt [0x2ffffc]
    ENDTRY
    PRINT_LINE 'split fstp tword:'
    TRY
    fstp tword [0x2ffff8]
    ENDTRY
    PRINT_LINE 'split fnsave:'
    TRY
    fnsave [0x2fffa0]
    ENDTRY

    ; Both pages not present: the first page faults first (CR2 = the access's own address).
    mov dword [PT0 + 0x2ff * 4], 0
    invlpg [0x2ff000]
    PRINT_LINE 'split word write, both absent:'
    TRY
    mov word [0x2fffff], 0xbbbb
    ENDTRY
    PRINT_LINE 'split dword write, both absent:'
    TRY
    mov dword [0x2ffffe], 0xaaaaaaaa
    ENDTRY
    PRINT_LINE 'split dword read, both absent:'
    TRY
    mov eax, [0x2ffffd]
    ENDTRY
    mov dword [PT0 + 0x2ff * 4], 0x2ff000 | 7
    invlpg [0x2ff000]

    PRINT_LINE 'write read-only, WP=0:'
    mov dword [PT0 + 0x301 * 4], 0x301000 | 5
    invlpg [0x301000]
    TRY
    mov dword [0x301010], 0xabcd
    ENDTRY
    PRINT_LINE 'write read-only, WP=1:'
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    TRY
    mov dword [0x301014], 0xabcd
    ENDTRY
    mov eax, cr0
    and eax, ~0x10000
    mov cr0, eax

    PRINT_LINE 'accessed/dirty:'
    mov dword [PT0 + 0x302 * 4], 0x302000 | 7
    invlpg [0x302000]
    PRINT_HEX 'pte', [PT0 + 0x302 * 4]
    mov eax, [0x302000]
    PRINT_HEX 'after read', [PT0 + 0x302 * 4]
    mov dword [0x302000], eax
    PRINT_HEX 'after write', [PT0 + 0x302 * 4]
    PRINT_HEX 'pde', [PD]
    call newline

    PRINT_LINE 'remap + invlpg:'
    mov dword [0x305000], 0xfeedface
    mov dword [0x303000], 0x0badf00d
    mov eax, [0x303000]
    mov dword [PT0 + 0x303 * 4], 0x305000 | 7
    invlpg [0x303000]
    PRINT_HEX 'via 303000', [0x303000]
    call newline

    PRINT_LINE 'ring 3 reads supervisor page:'
    mov dword [PT0 + 0x304 * 4], 0x304000 | 3
    invlpg [0x304000]
    TRY
    mov eax, ring3_read_supervisor
    mov ecx, 0x3002
    call enter_ring3
    ENDTRY
    PRINT_LINE 'ring 3 writes read-only user page:'
    TRY
    mov eax, ring3_write_readonly
    mov ecx, 0x3002
    call enter_ring3
    ENDTRY

    PRINT_LINE 'paging off'
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    ret

ring3_read_supervisor:
    mov eax, [0x304000]
    int 0x80
ring3_write_readonly:
    mov dword [0x301020], 1
    int 0x80

image_end:

# plug(): the same bytes as plugin_frame_pointer.s up to the call, but RBP is a
# plain register holding an address nothing maps: CFA = RSP + 16 at the call.
    .text
    .globl plug
    .type plug,@function
plug:
    .cfi_startproc
    pushq %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq %rsp, %rax
    movabsq $0x900000000000, %rbp
    movl $64, %edi
    call malloc@PLT
    popq %rbp
    .cfi_def_cfa_offset 8
    ret
    .cfi_endproc
    .size plug, .-plug
    .section .note.GNU-stack,"",@progbits

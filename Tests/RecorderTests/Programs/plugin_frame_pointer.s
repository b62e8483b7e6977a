# plug(): calls malloc (64 bytes) with a frame pointer: CFA = RBP + 16 at the call.
    .text
    .globl plug
    .type plug,@function
plug:
    .cfi_startproc
    pushq %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq %rsp, %rbp
    .cfi_def_cfa_register %rbp
    movabsq $0, %rax
    movl $64, %edi
    call malloc@PLT
    popq %rbp
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_endproc
    .size plug, .-plug
    .section .note.GNU-stack,"",@progbits

/* The Swift runtime's demangler, a C function libswiftCore exports
 * (swift/Demangling/Demangle.h). Declared here so that the linker binds it:
 * the installed heapdiff has the runtime linked in (-static-stdlib), where
 * its symbols are not in the dynamic symbol table and dlsym cannot find them. */
#include <stddef.h>
#include <stdint.h>

char *swift_demangle(const char *mangled_name, size_t mangled_name_length, char *output_buffer,
                     size_t *output_buffer_size, uint32_t flags);

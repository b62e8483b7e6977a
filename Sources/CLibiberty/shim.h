/* GNU libiberty's demangler (libiberty-dev), the one c++filt and gdb use:
 * it reads Rust symbols, both the legacy form and v0 (`_R…`), which the C++
 * runtime's __cxa_demangle does not. libiberty is a static archive, so the
 * installed heapdiff carries it and needs nothing more at run time. */
#include <libiberty/demangle.h>

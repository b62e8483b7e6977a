// zlib (zlib1g-dev), for gzip-compressing pprof profiles.
#include <zlib.h>

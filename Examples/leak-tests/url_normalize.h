#ifndef URL_NORMALIZE_H
#define URL_NORMALIZE_H
/* Returns a newly allocated lower-case copy of URL; the caller frees it. */
char *url_normalize(const char *url);
#endif

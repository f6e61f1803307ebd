/* fuzz_template.c - the template engine (src/template): each input is the
 * text of a template, compiled as an anonymous template on top of the
 * built-in set (so it may call nm.default.* and every function) and executed
 * in text mode and in HTML mode over the payload of tests/template/data/one.json
 * (the data of the differential corpus tests/fuzz/template, whose .tmpl files
 * are this target's seeds). The output is capped at 1 MiB (ND_ETOOBIG past
 * it, as for a receiver's message).
 *
 * Checks: a failed render says why; a render that passed wrote no more than
 * the cap. Crashes, leaks and undefined behaviour are the sanitizers'.
 */
#include "fuzz.h"
#include "notifyd/buf.h"
#include "notifyd/template.h"
#include "notifyd/util.h"

#define OUTPUT_LIMIT (1u << 20)

static struct nd_template_set *set;
static struct nd_template_data *tdata;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "open %s", path);
    char *buf = nd_xmalloc(1u << 20);
    *len = fread(buf, 1, (1u << 20) - 1, f);
    FUZZ_CHECK(!ferror(f) && feof(f), "read %s", path);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[ND_ERRLEN];
    set = nd_template_set_new();
    FUZZ_CHECK(nd_template_set_add_defaults(set, err) == ND_OK, "defaults: %s", err);
    size_t len;
    char *json = slurp(ND_FUZZ_TEMPLATE_DATA, &len);
    tdata = nd_template_data_from_json(json, len, err);
    FUZZ_CHECK(tdata != NULL, "%s: %s", ND_FUZZ_TEMPLATE_DATA, err);
    free(json);
    return 0;
}

void fuzz_cleanup(void)
{
    nd_template_data_free(tdata);
    nd_template_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum nd_template_mode modes[] = {ND_TEMPLATE_TEXT, ND_TEMPLATE_HTML};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        struct nd_buf out;
        nd_buf_init(&out, OUTPUT_LIMIT);
        char err[ND_ERRLEN] = "";
        int rc = nd_template_execute_text_mode(set, "", (const char *)data, size, tdata, modes[m],
                                               &out, err);
        if (rc != ND_OK)
            FUZZ_CHECK(err[0] != '\0', "render failed (%d) without a message", rc);
        FUZZ_CHECK(out.len <= OUTPUT_LIMIT, "output %zu bytes over the cap", out.len);
        nd_buf_deinit(&out);
    }
    return 0;
}

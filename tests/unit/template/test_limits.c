/* test_limits.c - a render either produces all of its output or fails with an
 * error naming the limit; an error that unwinds (the memory limit hit while a
 * value is printed) leaves no heap memory behind, counted by the allocator
 * (glibc's, or ASan's in the ASan build). */
#include <malloc.h>
#ifdef __SANITIZE_ADDRESS__
/* sanitizer/allocator_interface.h, which Debian's gcc does not ship */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "../../tap.h"
#include "tmpl_int.h"
#include "tmpl_test.h"

static int render(const char *text, enum nd_template_mode mode, size_t out_limit,
                  struct nd_buf *out, char *err)
{
    struct nd_template_set *s = nd_template_set_new();
    struct nd_template_data *d = nd_template_data_from_json(TT_DATA, strlen(TT_DATA), err);
    nd_buf_init(out, out_limit);
    int rc = nd_template_execute_text_mode(s, "", text, strlen(text), d, mode, out, err);
    nd_template_data_free(d);
    nd_template_set_free(s);
    return rc;
}

/* Renders `text` with no limit to learn its length, then with every output
 * limit below it (each must fail with ND_ETOOBIG naming that limit) and
 * exactly at it (must succeed with the same bytes). */
static void complete_or_error(const char *text, enum nd_template_mode mode)
{
    char err[ND_ERRLEN];
    struct nd_buf full;
    int rc = render(text, mode, 1 << 20, &full, err);
    is_int(rc, ND_OK, "%s renders", text);
    size_t n = full.len;
    ok(n > 8, "%s: %zu bytes", text, n);
    int bad = 0;
    for (size_t lim = 0; lim < n; lim++) {
        struct nd_buf b;
        rc = render(text, mode, lim, &b, err);
        char want[64];
        snprintf(want, sizeof want, "output exceeds the limit of %zu bytes", lim);
        if (rc != ND_ETOOBIG || !strstr(err, want)) {
            if (!bad++)
                printf("# limit %zu: rc %d, output \"%s\", err \"%s\"\n", lim, rc, nd_buf_cstr(&b),
                       rc ? err : "");
        }
        nd_buf_deinit(&b);
    }
    is_int(bad, 0, "%s: every limit below %zu bytes fails naming the limit", text, n);
    struct nd_buf b;
    rc = render(text, mode, n, &b, err);
    is_int(rc, ND_OK, "%s: a limit of exactly %zu bytes is enough", text, n);
    is_str(nd_buf_cstr(&b), nd_buf_cstr(&full), "%s: same output", text);
    nd_buf_deinit(&b);
    nd_buf_deinit(&full);
}

/* Bytes the allocator has handed out and not got back: ASan's own count
 * under ASan (its allocator replaces glibc's), else glibc's. */
static size_t heap_in_use(void)
{
#ifdef __SANITIZE_ADDRESS__
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

/* A struct whose field is computed when read, and whose computation passes
 * the execution's memory limit: the getter unwinds in the middle of printing
 * the struct, as any getter that allocates may. */
static struct tv obj_name(struct texec *x, const void *o)
{
    return nd_tmpl__val_str("obj", 3);
}

static struct tv obj_big(struct texec *x, const void *o)
{
    nd_tmpl__exec_alloc(x, (size_t)1 << 40);
    return nd_tmpl__val_str("unreachable", 11);
}

static const struct tfield obj_fields[] = {{"Name", obj_name}, {"Big", obj_big}};
static const struct ttype T_TEST_OBJ = {
    .name = "test.Obj", .kind = TK_OBJ, .fields = obj_fields, .nfields = 2};

static int fn_obj(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                  char *err)
{
    static const int obj;
    struct tv v = {0};
    v.k = TK_OBJ;
    v.t = &T_TEST_OBJ;
    v.u.o = &obj;
    *out = v;
    return 0;
}

static const struct tfunc F_OBJ = {"obj", fn_obj, 0, false, {NULL}, false, false};

static int render_obj(const char *text, enum nd_template_mode mode, char *err)
{
    struct nd_template_set *s = nd_template_set_new();
    nd_tmpl__set_add_func(s, &F_OBJ);
    struct nd_buf out;
    nd_buf_init(&out, 1 << 20);
    int rc = nd_template_execute_text_mode(s, "", text, strlen(text), NULL, mode, &out, err);
    nd_buf_deinit(&out);
    nd_template_set_free(s);
    return rc;
}

/* Printing obj unwinds: the render fails with the memory limit's error and
 * leaves no heap memory behind, also the buffers that held the text printed
 * so far. Measured on a second render, so that what libc allocates once
 * (stdio) does not count. */
static void unwinding_print_frees(const char *text, enum nd_template_mode mode)
{
    char err[ND_ERRLEN];
    render_obj(text, mode, err);
    size_t before = heap_in_use();
    int rc = render_obj(text, mode, err);
    size_t after = heap_in_use();
    is_int(rc, ND_EINVAL, "%s fails", text);
    has_str(err, "memory limit of", "%s: with the memory limit's error", text);
    is_int((long long)after - (long long)before, 0, "%s: no heap memory left behind", text);
}

int main(void)
{
    complete_or_error("{{ .CommonLabels }}", ND_TEMPLATE_TEXT);
    complete_or_error("{{ index .Alerts 0 }}", ND_TEMPLATE_TEXT);
    complete_or_error("{{ (index .Alerts 1).Labels.SortedPairs }}|{{ index .Alerts 1 }}",
                      ND_TEMPLATE_TEXT);
    complete_or_error("{{ printf \"%v %.30f %+q\" .CommonLabels 0.1 \"\\u00e9\" }}",
                      ND_TEMPLATE_TEXT);
    complete_or_error("{{ print .GroupLabels 1.5 }}{{ println (index .Alerts 0).Labels 2 }}",
                      ND_TEMPLATE_TEXT);
    complete_or_error("<p title=\"{{ .CommonLabels }}\">{{ index .Alerts 0 }}</p>",
                      ND_TEMPLATE_HTML);
    complete_or_error(
        "{{ html .CommonLabels }}{{ js .GroupLabels }}{{ urlquery (index .Alerts 0) }}",
        ND_TEMPLATE_TEXT);

    unwinding_print_frees("{{ obj }}", ND_TEMPLATE_TEXT);
    /* the error message prints the value: "range can't iterate over {...}" */
    unwinding_print_frees("{{ range obj }}{{ end }}", ND_TEMPLATE_TEXT);
    unwinding_print_frees("{{ printf \"%v\" obj }}", ND_TEMPLATE_TEXT);
    unwinding_print_frees("{{ print obj }}{{ println obj }}", ND_TEMPLATE_TEXT);
    unwinding_print_frees("{{ html obj }}", ND_TEMPLATE_TEXT);
    unwinding_print_frees("{{ urlquery 1 obj }}", ND_TEMPLATE_TEXT);
    unwinding_print_frees("<a title=\"{{ obj }}\">{{ obj }}</a>", ND_TEMPLATE_HTML);
    return done_testing();
}

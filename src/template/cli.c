/* cli.c - `notifyd template render`: renders a template against a data file
 * in the Alertmanager webhook payload shape, like `amtool template render`,
 * and prints exactly the bytes the template produced.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_int.h"

#define CLI_OUTPUT_LIMIT (64u << 20)
#define CLI_DATA_LIMIT   (64u << 20)

static void usage(FILE *err)
{
    fputs("usage: notifyd template render [--file F]... (--name NAME | --text TEXT) --data FILE\n"
          "                               [--type text|html] [--language L]\n"
          "  --file F       parse template file F (repeatable; later files override)\n"
          "  --name NAME    render the template NAME (or a full {{ template \"x\" . }} call)\n"
          "  --text TEXT    render TEXT as an anonymous template\n"
          "  --data FILE    webhook payload JSON to render against (- for stdin)\n"
          "  --type T       text (default) or html\n"
          "  --language L   language for translate/message (default English)\n",
          err);
}

static int read_all(const char *path, struct nd_buf *b, char *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return nd_seterr(err, ND_EINVAL, "open %s: %s", path, strerror(errno));
    char chunk[8192];
    size_t n;
    int rc = ND_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (nd_buf_add(b, chunk, n) != ND_OK) {
            rc = nd_seterr(err, ND_ETOOBIG, "%s: too large", path);
            break;
        }
    }
    if (rc == ND_OK && ferror(f))
        rc = nd_seterr(err, ND_EINVAL, "read %s: %s", path, strerror(errno));
    if (f != stdin)
        fclose(f);
    return rc;
}

int nd_template_cli(int argc, char **argv, FILE *out, FILE *errf)
{
    int i = 1;
    if (i < argc && strcmp(argv[i], "template") == 0)
        i++;
    if (i >= argc || strcmp(argv[i], "render") != 0) {
        usage(errf);
        return 2;
    }
    i++;
    const char **files = nd_xcalloc((size_t)argc + 1, sizeof(*files));
    size_t nfiles = 0;
    const char *name = NULL, *text = NULL, *data_path = NULL, *type = "text", *lang = NULL;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--file") == 0)
            slot = &files[nfiles];
        else if (strcmp(a, "--name") == 0)
            slot = &name;
        else if (strcmp(a, "--text") == 0)
            slot = &text;
        else if (strcmp(a, "--data") == 0)
            slot = &data_path;
        else if (strcmp(a, "--type") == 0)
            slot = &type;
        else if (strcmp(a, "--language") == 0)
            slot = &lang;
        if (!slot || i + 1 >= argc) {
            fprintf(errf, "notifyd template render: %s %s\n",
                    slot ? "missing value for" : "unknown argument", a);
            usage(errf);
            free(files);
            return 2;
        }
        *slot = argv[++i];
        if (slot == &files[nfiles])
            nfiles++;
    }
    if ((name == NULL) == (text == NULL) || !data_path ||
        (strcmp(type, "text") != 0 && strcmp(type, "html") != 0)) {
        fprintf(errf, "notifyd template render: give one of --name or --text, and --data\n");
        usage(errf);
        free(files);
        return 2;
    }
    char err[ND_ERRLEN] = "";
    int code = 1;
    struct nd_template_set *set = nd_template_set_new();
    struct nd_template_data *data = NULL;
    struct nd_buf db, ob;
    nd_buf_init(&db, CLI_DATA_LIMIT);
    nd_buf_init(&ob, CLI_OUTPUT_LIMIT);
    if (lang)
        nd_template_set_language(set, lang);
    if (nd_template_set_add_defaults(set, err) != ND_OK)
        goto fail;
    for (size_t k = 0; k < nfiles; k++) {
        if (nd_template_set_parse_file(set, files[k], err) != ND_OK)
            goto fail;
    }
    if (read_all(data_path, &db, err) != ND_OK)
        goto fail;
    data = nd_template_data_from_json(nd_buf_cstr(&db), db.len, err);
    if (!data)
        goto fail;
    enum nd_template_mode mode = strcmp(type, "html") == 0 ? ND_TEMPLATE_HTML : ND_TEMPLATE_TEXT;
    int rc;
    if (text) {
        rc = nd_template_execute_text_mode(set, "", text, strlen(text), data, mode, &ob, err);
    } else {
        struct nd_buf call;
        nd_buf_init(&call, strlen(name) + 32);
        rc = nd_template_transform(name, &call);
        if (rc != ND_OK)
            snprintf(err, ND_ERRLEN, "template: invocation of \"%s\" too long", name);
        else
            rc = nd_template_execute_text_mode(set, "", nd_buf_cstr(&call), call.len, data, mode,
                                               &ob, err);
        nd_buf_deinit(&call);
    }
    if (rc != ND_OK)
        goto fail;
    if (ob.len && fwrite(ob.data, 1, ob.len, out) != ob.len) {
        snprintf(err, sizeof err, "write: %s", strerror(errno));
        goto fail;
    }
    fflush(out);
    code = 0;
    goto done;
fail:
    fprintf(errf, "%s\n", err);
done:
    nd_buf_deinit(&ob);
    nd_buf_deinit(&db);
    nd_template_data_free(data);
    nd_template_set_free(set);
    free(files);
    return code;
}

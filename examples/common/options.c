/*
 * examples/common/options.c: a tool's option table turned into getopt_long_only's array, and the
 * parse and --help built on it (options.h says what is accepted). Calls libc only.
 *
 * getopt_long_only reads single-dash names of several letters (-aet) as DCMTK does, splits
 * --name=value, takes a separate value, and with "-" first in the option string hands back
 * positional arguments in order, so that options may follow them. It is also more lenient than
 * the tools have ever been (it takes abbreviations and either number of dashes): every option it
 * finds is held to its exact spelling in the table, and everything it refuses is named the way
 * the tools always named it. ':' after the '-' makes it silent and report a missing value apart.
 */
#include "options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* getopt's val for spelling k: above every character getopt could return for itself. */
enum { SPELLING_BASE = 256 };

int tool_parser_init(tool_parser *parser, const tool_option *options, size_t count, int argc, char **argv)
{
    memset(parser, 0, sizeof *parser);
    parser->argc = argc;
    parser->argv = argv;
    parser->options = options;
    parser->count = count;
    size_t spellings = 0;
    for (size_t i = 0; i < count; i++)
        spellings += (options[i].names[0] != NULL) + (options[i].names[1] != NULL);
    parser->long_options = calloc(spellings + 1, sizeof *parser->long_options); /* ends with a zero entry */
    parser->rows = calloc(spellings + 1, sizeof *parser->rows);
    parser->spellings = calloc(spellings + 1, sizeof *parser->spellings);
    if (parser->long_options == NULL || parser->rows == NULL || parser->spellings == NULL) {
        tool_parser_free(parser);
        return TOOL_PARSE_NO_MEMORY;
    }
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        for (int n = 0; n < 2; n++) {
            const char *spelling = options[i].names[n];
            if (options[i].id <= 0 || spelling == NULL)
                continue;
            struct option *entry = &parser->long_options[k];
            entry->name = spelling + strspn(spelling, "-"); /* getopt's names have no dashes */
            entry->has_arg = options[i].argument != NULL ? required_argument : no_argument;
            entry->flag = NULL;
            entry->val = SPELLING_BASE + (int)k;
            parser->rows[k] = &options[i];
            parser->spellings[k] = spelling;
            k++;
        }
    opterr = 0;
    return 0;
}

void tool_parser_free(tool_parser *parser)
{
    free(parser->long_options);
    free((void *)parser->rows);
    free((void *)parser->spellings);
    parser->long_options = NULL;
    parser->rows = NULL;
    parser->spellings = NULL;
}

/* The row whose spelling is exactly name[0..length), or NULL. */
static const tool_option *row_spelled(const tool_parser *parser, const char *name, size_t length)
{
    for (size_t k = 0; parser->spellings[k] != NULL; k++)
        if (strlen(parser->spellings[k]) == length && strncmp(parser->spellings[k], name, length) == 0)
            return parser->rows[k];
    return NULL;
}

int tool_parse_next(tool_parser *parser)
{
    parser->value = NULL;
    parser->name[0] = '\0';
    if (parser->after_dashes) {
        if (optind >= parser->argc)
            return TOOL_PARSE_END;
        parser->value = parser->argv[optind++];
        return TOOL_PARSE_POSITIONAL;
    }
    int before = optind; /* the element getopt looks at: it takes whole elements, nothing is bundled */
    int c = getopt_long_only(parser->argc, parser->argv, "-:", parser->long_options, NULL);
    if (c == -1) {
        /* The end, or "--": optind is at what follows it. */
        parser->after_dashes = 1;
        return tool_parse_next(parser);
    }
    if (c == 1) {
        parser->value = optarg;
        return TOOL_PARSE_POSITIONAL;
    }
    /* The option as typed: only a GNU long option (two dashes) carries "=value". */
    const char *arg = parser->argv[before];
    const char *equals = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t length = equals != NULL ? (size_t)(equals - arg) : strlen(arg);
    snprintf(parser->name, sizeof parser->name, "%.*s", (int)length, arg);
    if (c >= SPELLING_BASE) {
        size_t k = (size_t)(c - SPELLING_BASE);
        if (strlen(parser->spellings[k]) == length && strncmp(parser->spellings[k], arg, length) == 0) {
            parser->value = parser->rows[k]->argument != NULL ? optarg : NULL;
            return parser->rows[k]->id;
        }
    }
    /* getopt refused it ('?', or ':' for a missing value), or took a spelling that is not in the
     * table (an abbreviation, another number of dashes): say what it is by the table alone. */
    const tool_option *row = row_spelled(parser, arg, length);
    if (row != NULL && row->argument != NULL && equals == NULL && before + 1 >= parser->argc)
        return TOOL_PARSE_MISSING_VALUE;
    if (equals != NULL && (row == NULL || row->argument == NULL))
        return TOOL_PARSE_UNEXPECTED_VALUE;
    return TOOL_PARSE_UNKNOWN;
}

void tool_print_options(FILE *out, const tool_option *options, size_t count, int column)
{
    for (size_t i = 0; i < count; i++) {
        const tool_option *row = &options[i];
        if (row->id <= 0) {
            fprintf(out, "%s\n", row->help);
            continue;
        }
        int width = fprintf(out, "  %s%s%s%s%s", row->names[0], row->names[1] != NULL ? ", " : "",
                            row->names[1] != NULL ? row->names[1] : "", row->argument != NULL ? " " : "",
                            row->argument != NULL ? row->argument : "");
        /* At least two spaces between the names and the text: a reader (and check-tool-options.sh)
         * tells a value's name from the help by them. */
        if (width + 2 > column) {
            fputc('\n', out);
            width = 0;
        }
        for (const char *line = row->help; *line != '\0';) {
            size_t n = strcspn(line, "\n");
            fprintf(out, "%*s%.*s\n", column - width, "", (int)n, line);
            width = 0;
            line += n + (line[n] == '\n');
        }
    }
}

void tool_print_exit_codes(FILE *out, const tool_exit_code *codes, size_t count)
{
    static const char lead[] = "exit codes: ";
    int width = fprintf(out, "%s", lead);
    for (size_t i = 0; i < count; i++) {
        char item[128];
        int n = snprintf(item, sizeof item, "%d %s%s", codes[i].code, codes[i].summary, i + 1 < count ? "," : "");
        if (i > 0 && width + 1 + n > 100) {
            width = fprintf(out, "\n%*s", (int)sizeof lead - 1, "") - 1;
        } else if (i > 0) {
            width += fprintf(out, " ");
        }
        width += fprintf(out, "%s", item);
    }
    fputc('\n', out);
}

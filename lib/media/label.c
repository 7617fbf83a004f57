/*
 * lib/media/label.c: label descriptions (JSON) and renderings (PNG for people, PDF for label
 * printers) of one volume. Layout through cairo, barcodes through libzint's vector output drawn
 * with cairo, so both formats are sharp at any resolution. What a label shows (digest 5.4):
 * Label Text; with Label Using Information Extracted From Instances YES (or absent), the patients
 * (name, ID, birth date, sex) and studies (date, modalities, description, number of images); the
 * File-set ID and volume number; Media Disposition. Must not touch DICOM files.
 */
#include "media/label.h"

#include "media/fsutil.h"
#include "media/json.h"

#include "dcmmcm/common.h"

#include <cairo.h>
#include <cairo-pdf.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zint.h>

/* ---- barcodes ---- */

int mcm_label_symbology(const char *term)
{
    if (term == NULL)
        return 0;
    static const struct {
        const char *term;
        int symbology;
    } terms[] = {
        {"CODE128", BARCODE_CODE128},
        {"CODE39", BARCODE_CODE39},
        {"INTER_2_5", BARCODE_C25INTER},
        /* ANSI/HIBC 1 allows Code 39 or Code 128 carriers; Code 128 is denser. */
        {"HIBC", BARCODE_HIBC_128},
        /* Not defined by PS3.3: documented extra terms. */
        {"QR", BARCODE_QRCODE},
        {"DATAMATRIX", BARCODE_DATAMATRIX},
    };
    size_t length = strlen(term);
    while (length > 0 && term[length - 1] == ' ')
        length--;
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++)
        if (strlen(terms[i].term) == length && memcmp(terms[i].term, term, length) == 0)
            return terms[i].symbology;
    return 0;
}

/* Encode the barcode; NULL (with a note) when it cannot be. */
static struct zint_symbol *encode_barcode(const mcm_label *label, mcm_label_result *result)
{
    if (label->barcode_value == NULL || label->barcode_value[0] == '\0')
        return NULL;
    result->barcode_requested = 1;
    int symbology = mcm_label_symbology(label->barcode_symbology);
    if (symbology == 0) {
        snprintf(result->barcode_note, sizeof result->barcode_note, "symbology \"%s\" is not supported: left off",
                 label->barcode_symbology != NULL ? label->barcode_symbology : "(none)");
        return NULL;
    }
    struct zint_symbol *symbol = ZBarcode_Create();
    if (symbol == NULL) {
        snprintf(result->barcode_note, sizeof result->barcode_note, "out of memory");
        return NULL;
    }
    symbol->symbology = symbology;
    symbol->input_mode = UNICODE_MODE;
    symbol->show_hrt = 1;
    /* The quiet zones each symbology requires, so that scanners find the symbol on any label. */
    symbol->output_options |= BARCODE_QUIET_ZONES;
    int rc = ZBarcode_Encode_and_Buffer_Vector(symbol, (const unsigned char *)label->barcode_value,
                                               (int)strlen(label->barcode_value), 0);
    if (rc >= ZINT_ERROR || symbol->vector == NULL) {
        snprintf(result->barcode_note, sizeof result->barcode_note, "cannot encode \"%.32s\" as %.16s: %.90s",
                 label->barcode_value, label->barcode_symbology, symbol->errtxt);
        ZBarcode_Delete(symbol);
        return NULL;
    }
    return symbol;
}

/* Draw the symbol into the box (x, y, w, h) in the current user space (mm), centred, keeping its
 * aspect ratio. */
static void draw_barcode(cairo_t *cr, const struct zint_symbol *symbol, double x, double y, double w, double h)
{
    const struct zint_vector *v = symbol->vector;
    if (v->width <= 0 || v->height <= 0)
        return;
    double scale = fmin(w / v->width, h / v->height);
    cairo_save(cr);
    cairo_translate(cr, x + (w - v->width * scale) / 2, y + (h - v->height * scale) / 2);
    cairo_scale(cr, scale, scale);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, 0, v->width, v->height);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (const struct zint_vector_rect *r = v->rectangles; r != NULL; r = r->next) {
        cairo_rectangle(cr, r->x, r->y, r->width, r->height);
        cairo_fill(cr);
    }
    for (const struct zint_vector_hexagon *hx = v->hexagons; hx != NULL; hx = hx->next) {
        double radius = hx->diameter / 2;
        for (int i = 0; i < 6; i++) {
            double angle = M_PI / 3 * i + M_PI / 6 + hx->rotation * M_PI / 180;
            double px = hx->x + radius * cos(angle), py = hx->y + radius * sin(angle);
            if (i == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_close_path(cr);
        cairo_fill(cr);
    }
    for (const struct zint_vector_circle *c = v->circles; c != NULL; c = c->next) {
        cairo_arc(cr, c->x, c->y, c->diameter / 2, 0, 2 * M_PI);
        if (c->colour)
            cairo_set_source_rgb(cr, 1, 1, 1);
        if (c->width > 0) {
            cairo_set_line_width(cr, c->width);
            cairo_stroke(cr);
        } else {
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
    }
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    for (const struct zint_vector_string *s = v->strings; s != NULL; s = s->next) {
        cairo_set_font_size(cr, s->fsize);
        cairo_text_extents_t extents;
        cairo_text_extents(cr, (const char *)s->text, &extents);
        double tx = s->halign == 1 ? s->x : s->halign == 2 ? s->x - extents.x_advance : s->x - extents.x_advance / 2;
        cairo_move_to(cr, tx, s->y);
        cairo_show_text(cr, (const char *)s->text);
    }
    cairo_restore(cr);
}

/* ---- text ---- */

typedef struct line {
    char text[256];
    double size; /* font size in mm */
    int bold;
} line;

typedef struct lines {
    line items[32];
    size_t count;
} lines;

static void add_line(lines *ls, double size, int bold, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void add_line(lines *ls, double size, int bold, const char *fmt, ...)
{
    if (ls->count >= sizeof ls->items / sizeof ls->items[0])
        return;
    line *l = &ls->items[ls->count];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text, sizeof l->text, fmt, ap);
    va_end(ap);
    /* Never cut a UTF-8 sequence in half at the end of the buffer. */
    size_t n = strlen(l->text);
    while (n > 0 && ((unsigned char)l->text[n - 1] & 0xC0) == 0x80)
        n--;
    if (n > 0 && ((unsigned char)l->text[n - 1] & 0xC0) == 0xC0 && strlen(l->text) == sizeof l->text - 1)
        l->text[n - 1] = '\0';
    if (l->text[0] == '\0')
        return;
    l->size = size;
    l->bold = bold;
    ls->count++;
}

/* "Doe^Jane^^^" -> "Doe, Jane" (PS3.5 6.2.1.1, alphabetic group only). */
static void person_name(const char *pn, char *out, size_t size)
{
    char family[128] = "", given[128] = "";
    const char *end = strchr(pn, '=');
    size_t length = end != NULL ? (size_t)(end - pn) : strlen(pn);
    const char *caret = memchr(pn, '^', length);
    size_t family_length = caret != NULL ? (size_t)(caret - pn) : length;
    snprintf(family, sizeof family, "%.*s", (int)family_length, pn);
    if (caret != NULL) {
        const char *rest = caret + 1;
        size_t rest_length = length - family_length - 1;
        const char *next = memchr(rest, '^', rest_length);
        snprintf(given, sizeof given, "%.*s", (int)(next != NULL ? (size_t)(next - rest) : rest_length), rest);
    }
    if (given[0] != '\0')
        snprintf(out, size, "%s, %s", family, given);
    else
        snprintf(out, size, "%s", family);
}

/* "20261125" -> "2026-11-25"; anything else as it is. */
static void date_text(const char *da, char out[16])
{
    if (da != NULL && strlen(da) == 8 && strspn(da, "0123456789") == 8)
        snprintf(out, 16, "%.4s-%.2s-%.2s", da, da + 4, da + 6);
    else
        snprintf(out, 16, "%s", da != NULL ? da : "");
}

static void build_lines(const mcm_label *label, lines *ls, lines *footer)
{
    memset(ls, 0, sizeof *ls);
    memset(footer, 0, sizeof *footer);
    if (label->label_text != NULL) {
        /* Label Text (UT): one line per line of text, CR LF or LF separated. */
        const char *p = label->label_text;
        while (*p != '\0') {
            size_t n = strcspn(p, "\r\n");
            add_line(ls, 3.8, 1, "%.*s", (int)n, p);
            p += n;
            while (*p == '\r' || *p == '\n')
                p++;
        }
    }
    if (label->use_extracted) {
        size_t shown = label->patient_count < 3 ? label->patient_count : 3;
        for (size_t i = 0; i < shown; i++) {
            const mcm_label_patient *pt = &label->patients[i];
            char name[256], birth[16];
            person_name(pt->name != NULL ? pt->name : "", name, sizeof name);
            date_text(pt->birth_date, birth);
            add_line(ls, 3.6, 1, "%s", name);
            add_line(ls, 2.8, 0, "ID %s%s%s%s%s", pt->id != NULL ? pt->id : "", birth[0] ? "   born " : "", birth,
                     pt->sex != NULL && pt->sex[0] ? "   " : "", pt->sex != NULL ? pt->sex : "");
        }
        if (label->patient_count > shown)
            add_line(ls, 2.8, 0, "and %zu more patients", label->patient_count - shown);
        size_t studies = label->study_count < 4 ? label->study_count : 4;
        for (size_t i = 0; i < studies; i++) {
            const mcm_label_study *st = &label->studies[i];
            char date[16], modalities[sizeof st->modalities];
            date_text(st->date, date);
            snprintf(modalities, sizeof modalities, "%s", st->modalities);
            for (char *m = modalities; *m != '\0'; m++)
                if (*m == '\\')
                    *m = '/';
            add_line(ls, 2.6, 0, "%s  %s  %s  (%u image%s)", date, modalities,
                     st->description != NULL ? st->description : "", st->images, st->images == 1 ? "" : "s");
        }
        if (label->study_count > studies)
            add_line(ls, 2.6, 0, "and %zu more studies", label->study_count - studies);
    }
    add_line(footer, 2.6, 0, "%s   volume %u of %u   %u image%s", label->fileset_id, label->volume, label->volumes,
             label->images, label->images == 1 ? "" : "s");
    if (label->media_disposition != NULL) {
        const char *p = label->media_disposition;
        while (*p != '\0') {
            size_t n = strcspn(p, "\r\n");
            add_line(footer, 2.4, 0, "%.*s", (int)n, p);
            p += n;
            while (*p == '\r' || *p == '\n')
                p++;
        }
    }
}

/* Show text centred at (cx, baseline) in at most width mm, shrinking the font down to 60 % of its
 * size and then cutting the text with an ellipsis. */
static void show_fitted(cairo_t *cr, const line *l, double cx, double baseline, double width, int centred)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           l->bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    char text[sizeof l->text + 4];
    snprintf(text, sizeof text, "%s", l->text);
    double size = l->size;
    cairo_text_extents_t e;
    for (;;) {
        cairo_set_font_size(cr, size);
        cairo_text_extents(cr, text, &e);
        if (e.x_advance <= width)
            break;
        if (size > l->size * 0.6) {
            size *= 0.95;
            continue;
        }
        /* Cut one UTF-8 character before the ellipsis and try again. */
        size_t n = strlen(text);
        if (n > 3 && strcmp(text + n - 3, "\xE2\x80\xA6") == 0)
            n -= 3;
        if (n == 0)
            break;
        do
            n--;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80);
        strcpy(text + n, "\xE2\x80\xA6");
    }
    cairo_move_to(cr, centred ? cx - e.x_advance / 2 : cx, baseline);
    cairo_show_text(cr, text);
}

/* ---- layouts (user space in millimetres) ---- */

/* Half the width of the disc's printable ring at heights top..bottom (mm from the top edge). */
static double disc_half_width(double top, double bottom)
{
    const double radius = 60 - 3.5, cy = 60;
    double dy = fmax(fabs(top - cy), fabs(bottom - cy));
    return dy >= radius ? 0 : sqrt(radius * radius - dy * dy);
}

static void draw_disc(cairo_t *cr, const lines *body, const lines *footer, const struct zint_symbol *barcode)
{
    const double radius = 60, hub = 21.5, cx = 60, cy = 60;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    /* Outline and hub: guides for a person; a disc printer masks them itself. */
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 0.2);
    cairo_arc(cr, cx, cy, radius - 0.1, 0, 2 * M_PI);
    cairo_stroke(cr);
    cairo_arc(cr, cx, cy, hub, 0, 2 * M_PI);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);

    /* From the bottom up: the footer, then the barcode above it. */
    double floor_y = 114;
    for (size_t i = footer->count; i-- > 0;) {
        const line *l = &footer->items[i];
        show_fitted(cr, l, cx, floor_y, 2 * disc_half_width(floor_y - l->size, floor_y), 1);
        floor_y -= l->size * 1.3;
    }
    if (barcode != NULL) {
        const double height = 13;
        double top = floor_y - height - 1;
        double half = disc_half_width(top, floor_y) * 0.85;
        draw_barcode(cr, barcode, cx - half, top, 2 * half, height);
        floor_y = top - 1.5;
    }
    /* The body flows over the hub: above it first, then below it down to what is reserved. */
    const double top_end = cy - hub - 1.5, bottom_start = cy + hub + 2;
    double y = 9;
    for (size_t i = 0; i < body->count; i++) {
        const line *l = &body->items[i];
        double baseline = y + l->size;
        if (y < top_end && baseline + l->size * 0.3 > top_end) {
            y = bottom_start;
            baseline = y + l->size;
        }
        if (baseline + l->size * 0.3 > floor_y)
            break;
        show_fitted(cr, l, cx, baseline, 2 * disc_half_width(y, baseline + l->size * 0.3), 1);
        y = baseline + l->size * 0.35;
    }
}

static void draw_rectangle(cairo_t *cr, const lines *body, const lines *footer, const struct zint_symbol *barcode)
{
    const double width = 100, height = 50, margin = 3;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 0.2);
    cairo_rectangle(cr, 0.1, 0.1, width - 0.2, height - 0.2);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    double text_width = barcode != NULL ? width - 2 * margin - 32 : width - 2 * margin;
    double y = margin;
    double footer_height = 0;
    for (size_t i = 0; i < footer->count; i++)
        footer_height += footer->items[i].size * 1.3;
    for (size_t i = 0; i < body->count; i++) {
        double baseline = y + body->items[i].size;
        if (baseline > height - margin - footer_height - 1)
            break;
        show_fitted(cr, &body->items[i], margin, baseline, text_width, 0);
        y = baseline + body->items[i].size * 0.35;
    }
    if (barcode != NULL)
        draw_barcode(cr, barcode, width - margin - 30, margin, 30, height - 2 * margin - footer_height - 1);
    y = height - margin - footer_height;
    for (size_t i = 0; i < footer->count; i++) {
        y += footer->items[i].size;
        show_fitted(cr, &footer->items[i], margin, y, width - 2 * margin, 0);
        y += footer->items[i].size * 0.3;
    }
}

static int is_style(const char *requested, const char *style)
{
    if (requested == NULL)
        return 0;
    size_t length = strlen(requested);
    while (length > 0 && requested[length - 1] == ' ')
        length--;
    return strlen(style) == length && memcmp(requested, style, length) == 0;
}

static void draw(cairo_t *cr, const mcm_label *label, const char *style, const struct zint_symbol *barcode)
{
    lines body, footer;
    build_lines(label, &body, &footer);
    if (strcmp(style, MCM_LABEL_STYLE_RECTANGLE) == 0)
        draw_rectangle(cr, &body, &footer, barcode);
    else
        draw_disc(cr, &body, &footer, barcode);
}

static int cairo_failure(cairo_status_t status, const char *what, const char *path)
{
    return mcm_error_set(status == CAIRO_STATUS_NO_MEMORY ? MCM_ENOMEM : MCM_EIO, "cannot %s %s: %s", what, path,
                    cairo_status_to_string(status));
}

int mcm_label_render(const mcm_label *label, const char *png_path, const char *pdf_path, unsigned dpi,
                     mcm_label_result *result)
{
    memset(result, 0, sizeof *result);
    result->style =
        is_style(label->style, MCM_LABEL_STYLE_RECTANGLE) ? MCM_LABEL_STYLE_RECTANGLE : MCM_LABEL_STYLE_DISC;
    int rectangle = strcmp(result->style, MCM_LABEL_STYLE_RECTANGLE) == 0;
    double width_mm = rectangle ? 100 : 120;
    double height_mm = rectangle ? 50 : 120;
    struct zint_symbol *barcode = encode_barcode(label, result);
    result->barcode_rendered = barcode != NULL;
    int rc = MCM_OK;
    if (png_path != NULL) {
        if (dpi == 0)
            dpi = 300;
        double px_per_mm = dpi / 25.4;
        int w = (int)lround(width_mm * px_per_mm), h = (int)lround(height_mm * px_per_mm);
        cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        cairo_t *cr = cairo_create(surface);
        cairo_scale(cr, px_per_mm, px_per_mm);
        draw(cr, label, result->style, barcode);
        cairo_status_t status = cairo_status(cr);
        if (status == CAIRO_STATUS_SUCCESS)
            status = cairo_surface_write_to_png(surface, png_path);
        if (status != CAIRO_STATUS_SUCCESS)
            rc = cairo_failure(status, "write", png_path);
        cairo_destroy(cr);
        cairo_surface_destroy(surface);
        result->png_width = (unsigned)w;
        result->png_height = (unsigned)h;
    }
    if (rc == MCM_OK && pdf_path != NULL) {
        const double pt_per_mm = 72 / 25.4;
        cairo_surface_t *surface = cairo_pdf_surface_create(pdf_path, width_mm * pt_per_mm, height_mm * pt_per_mm);
        char title[64];
        snprintf(title, sizeof title, "%s volume %u", label->fileset_id, label->volume);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "dcmmcm");
        cairo_t *cr = cairo_create(surface);
        cairo_scale(cr, pt_per_mm, pt_per_mm);
        draw(cr, label, result->style, barcode);
        cairo_status_t status = cairo_status(cr);
        cairo_destroy(cr);
        cairo_surface_finish(surface);
        if (status == CAIRO_STATUS_SUCCESS)
            status = cairo_surface_status(surface);
        cairo_surface_destroy(surface);
        if (status != CAIRO_STATUS_SUCCESS)
            rc = cairo_failure(status, "write", pdf_path);
    }
    if (barcode != NULL)
        ZBarcode_Delete(barcode);
    return rc;
}

/* ---- description ---- */

int mcm_label_write_json(const mcm_label *label, const mcm_label_result *result, const char *png_name,
                         const char *pdf_name, const char *path)
{
    mcm_json j;
    mcm_json_init(&j);
    mcm_json_begin_object(&j);
    mcm_json_kv_string(&j, "format", "dcmmcm-label/1");
    mcm_json_kv_string(&j, "job", label->job_uid);
    mcm_json_kv_string(&j, "fileset_id", label->fileset_id);
    mcm_json_kv_string(&j, "fileset_uid", label->fileset_uid);
    mcm_json_kv_int(&j, "volume", label->volume);
    mcm_json_kv_int(&j, "volumes", label->volumes);
    mcm_json_kv_int(&j, "copies", label->copies);
    mcm_json_kv_string(&j, "profile", label->profile);
    mcm_json_kv_string(&j, "medium", label->medium);
    mcm_json_kv_string(&j, "style", result->style);
    mcm_json_kv_string(&j, "style_requested", label->style);
    mcm_json_kv_bool(&j, "label_using_extracted_information", label->use_extracted);
    mcm_json_kv_string(&j, "label_text", label->label_text);
    mcm_json_kv_string(&j, "media_disposition", label->media_disposition);
    mcm_json_key(&j, "barcode");
    if (!result->barcode_requested) {
        mcm_json_null(&j);
    } else {
        mcm_json_begin_object(&j);
        mcm_json_kv_string(&j, "value", label->barcode_value);
        mcm_json_kv_string(&j, "symbology", label->barcode_symbology);
        mcm_json_kv_bool(&j, "rendered", result->barcode_rendered);
        mcm_json_kv_string(&j, "note", result->barcode_note[0] ? result->barcode_note : NULL);
        mcm_json_end_object(&j);
    }
    if (label->use_extracted) {
        mcm_json_key(&j, "patients");
        mcm_json_begin_array(&j);
        for (size_t i = 0; i < label->patient_count; i++) {
            const mcm_label_patient *p = &label->patients[i];
            mcm_json_begin_object(&j);
            mcm_json_kv_string(&j, "name", p->name);
            mcm_json_kv_string(&j, "id", p->id);
            mcm_json_kv_string(&j, "birth_date", p->birth_date);
            mcm_json_kv_string(&j, "sex", p->sex);
            mcm_json_end_object(&j);
        }
        mcm_json_end_array(&j);
        mcm_json_key(&j, "studies");
        mcm_json_begin_array(&j);
        for (size_t i = 0; i < label->study_count; i++) {
            const mcm_label_study *s = &label->studies[i];
            mcm_json_begin_object(&j);
            mcm_json_kv_string(&j, "patient_id", s->patient_id);
            mcm_json_kv_string(&j, "study_instance_uid", s->study_uid);
            mcm_json_kv_string(&j, "date", s->date);
            mcm_json_kv_string(&j, "description", s->description);
            mcm_json_kv_string(&j, "accession_number", s->accession_number);
            mcm_json_key(&j, "modalities");
            mcm_json_begin_array(&j);
            for (const char *m = s->modalities; *m != '\0';) {
                size_t n = strcspn(m, "\\");
                char one[17];
                snprintf(one, sizeof one, "%.*s", (int)(n < 16 ? n : 16), m);
                mcm_json_string(&j, one);
                m += n;
                if (*m == '\\')
                    m++;
            }
            mcm_json_end_array(&j);
            mcm_json_kv_int(&j, "images", s->images);
            mcm_json_end_object(&j);
        }
        mcm_json_end_array(&j);
    }
    mcm_json_kv_int(&j, "images", label->images);
    mcm_json_kv_string(&j, "png", png_name);
    mcm_json_kv_string(&j, "pdf", pdf_name);
    mcm_json_kv_string(&j, "created", label->created);
    mcm_json_end_object(&j);
    const char *text = mcm_json_text(&j);
    int rc = text != NULL ? mcm_fs_write_file(path, text, strlen(text))
                          : mcm_error_set(MCM_ENOMEM, "out of memory writing %s", path);
    mcm_json_free(&j);
    return rc;
}

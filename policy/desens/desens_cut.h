/*
 * policy/desens/desens_cut.h - producing a view piece by piece: a view
 * too large to keep whole is served as segments cut at record
 * boundaries (docs/desensitization.md "Views in segments").
 *
 * A full pass records, now and then, where it stands: desens_at() gives
 * the input offset up to which every record is whole and its view
 * appended, so (that offset, the output so far) is a pair of matching
 * boundaries. A segment [a, b) of the input is then produced alone by a
 * new engine fed the input's prefix [0, body) (BOM, CSV header; its
 * output thrown away), cut, resumed at a, fed [a, b) and cut again: the
 * output is the view's bytes between the two boundaries. Only formats
 * whose records stand alone are cuttable (CSV, TSV, JSON Lines); a JSON
 * document is not.
 */
#ifndef POOL_DESENS_CUT_H
#define POOL_DESENS_CUT_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/desens/desens.h"

/* Whether the format's view can be cut at record boundaries. */
bool desens_cuttable(const struct desens *d);

/*
 * Where the records begin, after the BOM and the header: 1 with *off
 * once the engine has read that far, else 0.
 */
int desens_body(const struct desens *d, uint64_t *off);

/*
 * The input offset before which every record fed is whole and its view
 * appended, and the line number there (for messages).
 */
void desens_at(const struct desens *d, uint64_t *off, uint64_t *line);

/*
 * Ends the input fed so far at a record boundary without ending the
 * file: the last record is read as if the input ended there (a CR
 * awaiting its LF ends it), its view appended to out. The engine stays
 * open for desens_resume(). -EIO when the input stops inside a record,
 * or the format cannot be cut.
 */
int desens_cut(struct desens *d, struct strbuf *out, struct perr *e);

/*
 * After a cut: the next byte fed is input offset off, on line line.
 * -EINVAL when the engine is not at a cut.
 */
int desens_resume(struct desens *d, uint64_t off, uint64_t line);

#endif

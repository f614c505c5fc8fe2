"""Imports: ``POST /api/r/{resource}/import``, a CSV or XLSX file of records, all or nothing.

A file's first row names its columns: each a field's name or its label (what
an export writes), matched exactly, then by label ignoring case. A column
naming no field the importer may read (one that does not exist, or a hidden
one: the answer is the same) is a 400, as is a repeated column or a missing
key column. Each further row is a *line*, numbered as a text editor numbers
it (the header is line 1; a quoted cell holding line breaks spans several).

Lines are matched to records by ``key``: a unique field, or (the default)
the resource's key, every column of a composite key present in the file. A
line whose key names no record inserts one (its key cells may be empty when
the database assigns the key); one whose key names a record updates the
fields whose values differ, or leaves it ``unchanged``. Each cell is read as
its field's type (:func:`~collabadmin.resources.cells.cell_value`) and then
checked exactly as a create or a PATCH body is (:mod:`~collabadmin.resources.validation`),
with the importer's permissions: ``add`` for inserts, ``change`` for
updates, within its row scope (a line naming a record outside it is an
error on that line that does not say whether the record exists), field by
field (a read-only field may hold its current value, not another). A
relation's cell may hold the related record's key or its display value
(its name, its title): a value naming no related record, or several, is an
error on that cell.

``dry_run=true`` (the default) writes nothing: it answers every line's
``op`` and ``errors``, a summary, and ``preview``, the id of what it saw
(the file's SHA-256 and the version of each record it matched), kept in
``collabadmin.collabadmin_import_preview`` for a day
(:data:`~collabadmin.imports.previews.PREVIEW_DAYS`).
Applying (``dry_run=false``) reads the file again in one transaction, and
writes nothing at all if any line is invalid (422) or in conflict (409),
both with the same body. With
``preview=ID`` (the same file, by the same user), a line updating a record
whose fields it writes changed since the preview read it is a conflict
(``base``/``theirs``/``yours`` as a PATCH's 409), and so is a line that
would insert a record someone created since: an import never overwrites
what its user did not see. Without ``preview`` (an API client's one-step
import) the versions are the ones the apply reads in its own transaction.
Each line written is one change with ``source: "import"``, through the same
record actions as a PATCH or a create, each audited by the capture trigger;
new records go in batches of :data:`~collabadmin.imports.apply.INSERT_BATCH`
rows, one round trip each.
A file with no key column at all (and no ``key``) inserts every line.

The modules, in the order an import goes through them: :mod:`.files`
(reading the CSV or XLSX file into lines), :mod:`.columns` (the header's
fields and the key lines are matched by), :mod:`.parse` (each cell as its
field's value), :mod:`.relations` (display values of related records
replaced by their keys), :mod:`.matching` (each line's record, and its op
checked with the importer's rights), :mod:`.previews` (what a dry run saw),
:mod:`.apply` (writing the lines), :mod:`.staging` (drafting them instead),
:mod:`.service` (all of it in a transaction, previewed or applied) and
:mod:`.routes`.
"""

"""The national standard of digital-mediation places (« Lieux de médiation numérique »):
import of v1.0.2 and v0.1 files, export of qualified places in v1.0.2 and for data.inclusion
(published every day by places.publication).

- vocabulary: the standard's columns, versions, services and enumerated values;
- values: one value read or written (text, lists, phone numbers, coordinates, dates);
- reading: a file as a whole (CSV or JSON, encoding, required columns, version);
- rows: one row mapped onto a Place;
- importing: the upsert of a file's rows, with its report;
- exporting: the v1.0.2 CSV of qualified places;
- inclusion: the same places as data.inclusion's structures and services (schema v0).

Formats (schemas copied in places/data/):
- v1.0.2: CSV (`,` between columns), multi-valued fields separated by `|`;
- v0.1: JSON array of objects, or CSV, multi-valued fields separated by `;`, older field names
  (`courriel`, `publics_accueillis`, `conditions_acces`, `labels_nationaux`, `accessibilite`)
  and 15 older service labels condensed into the 9 current ones.

Rules of the import:
- a file that cannot be read as a whole (neither CSV nor JSON, not UTF-8, required columns
  missing, a control character in its first line) raises `ImportFileError`: nothing is
  imported;
- a row that cannot be used (no id, name, address, town or postcode, coordinates outside
  France, enumerated values that cannot be mapped, a control character such as NUL that the
  database cannot store…) is rejected with its row number, field and reason, and the other
  rows are imported; an unusable optional value (bad phone number, e-mail, URL, opening
  hours) is dropped with a warning;
- rows are upserted by (source, id), all in one transaction; imported places are not
  qualified unless `qualified=True` (the operator migrating a registry of places already
  qualified elsewhere), which is audited.
"""


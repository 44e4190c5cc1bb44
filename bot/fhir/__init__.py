"""FHIR R4 in and out (SPEC 15): `import-fhir` reads a Bundle, `export-fhir` writes one.

**Which models.** fhir.resources 8 puts FHIR R5 at its top level (`fhir.resources.patient`),
keeps STU3 in `fhir.resources.STU3`, and ships R4B (4.3.0) in `fhir.resources.R4B`; it has no
plain R4 (4.0.1) package any more. R4B is the one to use for R4: it is a technical correction
of R4 that left Patient, MedicationRequest, MedicationDispense, Communication, Flag, Task and
Bundle as they were in R4 (its changes are to the medicinal product definition resources and
the subscription backport), so an R4 Bundle of these resources parses and validates the same.
R5 is not R4: MedicationRequest.medication became a CodeableReference, repeats and dispense
statuses changed, and an R4 system's Bundle would not validate against it.

Everything FHIR-shaped lives in this package: `reading.py` turns a Bundle into rows of the CSV
import's columns (SPEC 5.4) and hands them to `store.importer.import_rows`, so the FHIR way in
has exactly the CSV's rules; `writing.py` builds the day's Bundle; `codes.py` names the code
systems and extensions. The library checks shapes and datatypes but not codes (a status of
"zzz" parses), so the statuses read are checked here.
"""

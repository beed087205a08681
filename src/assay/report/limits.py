"""How much a report shows (kept apart so the command line can read it without loading the report stage)."""

#: cases a report shows per requirement / breakdown row / risk / grade, and of the whole run
#: (see `assay.report.bounded`); every figure still counts every case
SAMPLE_CAP = 20

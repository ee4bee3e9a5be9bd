"""Labelled data: tables of text (CSV, TSV, JSONL, lines), the one class set, labelled datasets and
their splits, and where SST2 comes from. Imports only ``core.base``."""

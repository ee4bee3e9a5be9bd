"""Labelling: a corpus by a model (locally or on Ray), and unlabelled text by a person with the
model choosing what to ask next. Imports ``models`` and the layers below it."""

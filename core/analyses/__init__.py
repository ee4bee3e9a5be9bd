"""Looking inside: the layer probe, the sentence map and attention, and ``doctor``. Imports
``models`` and the layers below it."""

"""bertsent core: headless SST2 -> frozen encoder -> logistic regression -> explained predictions.

Importing ``core`` is cheap: torch and transformers load only when an encoder is loaded.
"""

__version__ = "0.1.0"

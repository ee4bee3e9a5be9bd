"""Errors that carry one clear line for the user (the CLI prints them without a traceback)."""


class BertsentError(Exception):
    """Base class: str(error) is a complete, user-facing one-line message."""


class DataError(BertsentError):
    """A data file is missing, unreadable or malformed."""


class EncoderError(BertsentError):
    """An encoder (tokenizer + model) cannot be found or loaded."""


class ModelFileError(BertsentError):
    """A saved model folder is missing, damaged, tampered with or incompatible."""


class Cancelled(BertsentError):
    """Long work was cancelled through its cancel event; finished parts stay cached."""


class ClusterError(BertsentError):
    """A Ray cluster cannot be reached, cannot host the work asked of it, or the job failed there."""


class RecipeError(BertsentError):
    """A recipe's settings (pooling, layer set) do not fit together or do not fit the encoder."""

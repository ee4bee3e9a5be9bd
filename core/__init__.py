"""bertsent core: headless SST2 -> frozen encoder -> logistic regression -> explained predictions.

Importing ``core`` is cheap: torch and transformers load only when an encoder is loaded.
"""

__version__ = "0.1.0"  # the package's version: pyproject.toml reads it from here


def installed_version() -> str:
    """The installed distribution's version, from its metadata (no heavy import: ``--version``
    answers at once); ``__version__`` for a source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bertsent")
    except PackageNotFoundError:
        return __version__

"""bertsent core: headless SST2 -> frozen encoder -> logistic regression -> explained predictions.

Importing ``core`` is cheap: torch and transformers load only when an encoder is loaded.
"""

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"  # the package's version: pyproject.toml reads it from here

# Where the classes of a `bertsent export` pickle lived before core's folders (2026-12-05): a
# joblib file names its classes by module, so an export written earlier loads through these.
PICKLED_BEFORE_FOLDERS = {
    "bertsent.core.classifier": "bertsent.core.models.classifier",
    "bertsent.core.estimators": "bertsent.core.models.estimators",
    "bertsent.core.regularization": "bertsent.core.base.regularization",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a module of :data:`PICKLED_BEFORE_FOLDERS` as the module it became."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in PICKLED_BEFORE_FOLDERS else None

    def create_module(self, spec):
        return importlib.import_module(PICKLED_BEFORE_FOLDERS[spec.name])

    def exec_module(self, module) -> None:
        pass


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())


def installed_version() -> str:
    """The installed distribution's version, from its metadata (no heavy import: ``--version``
    answers at once); ``__version__`` for a source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bertsent")
    except PackageNotFoundError:
        return __version__

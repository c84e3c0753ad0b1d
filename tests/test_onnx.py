"""The ONNX Runtime backend agrees with the torch model it was exported from."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime")  # the `onnx` extra; `make setup` installs it

from stance import StanceClassifier  # noqa: E402
from stance.backends.onnx import OnnxBackend  # noqa: E402
from stance.cli import main  # noqa: E402
from stance.export import export  # noqa: E402

TEXTS = ["the radar in poland was a provocation", "moscow signed the treaty",
         "a reckless violation of the treaty and the talks", "missile",
         " ".join(["the sovereign radar was signed in moscow and washington"] * 6)]


@pytest.fixture(scope="module")
def onnx_dir(tiny_model_dir, tmp_path_factory):
    return export(tiny_model_dir, tmp_path_factory.mktemp("onnx") / "fp32")


def _short_windows(clf):
    # Small windows so that the long text is split and aggregated on both backends.
    clf.backend.max_length, clf.backend.stride = 16, 4
    return clf


def test_export_round_trip_agrees_with_torch(tiny_clf, onnx_dir):
    files = {p.name for p in onnx_dir.iterdir()}
    assert {"config.json", "model.onnx", "tokenizer_config.json"} <= files
    assert "model.safetensors" not in files
    onnx = _short_windows(StanceClassifier.from_pretrained(onnx_dir))
    assert isinstance(onnx.backend, OnnxBackend)  # the folder says which backend runs it
    torch_clf = _short_windows(tiny_clf)
    expected, got = torch_clf.predict_proba(TEXTS), onnx.predict_proba(TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert [p.label for p in onnx.predict(TEXTS)] == [p.label for p in torch_clf.predict(TEXTS)]
    # Dynamic batch and sequence axes: one text at a time gives the same answer.
    np.testing.assert_allclose(onnx.predict_proba(TEXTS, batch_size=1), got, atol=1e-5)


def test_explain_works_on_onnx(onnx_dir):
    onnx = StanceClassifier.from_pretrained(onnx_dir)
    pred = onnx.predict(["The radar was signed. Moscow was a provocation."], explain=True)[0]
    assert {e.text for e in pred.evidence} == {"The radar was signed.",
                                               "Moscow was a provocation."}


def test_cli_export_int8_is_smaller_and_close(tiny_clf, tiny_model_dir, onnx_dir, tmp_path):
    out = tmp_path / "int8"
    assert main(["export", "--format", "onnx", "--int8", str(tiny_model_dir), str(out)]) == 0
    assert (out / "model.onnx").stat().st_size < 0.8 * (onnx_dir / "model.onnx").stat().st_size
    int8 = StanceClassifier.from_pretrained(out)
    proba = int8.predict_proba(TEXTS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(proba - tiny_clf.predict_proba(TEXTS)).max() < 0.05


def test_backends_are_checked_against_the_folder(onnx_dir, tiny_model_dir):
    with pytest.raises(ValueError, match=r"missing \['model.safetensors'\] for backend 'torch'"):
        StanceClassifier.from_pretrained(onnx_dir, backend="torch")
    with pytest.raises(ValueError, match=r"missing \['model.onnx'\]"):
        StanceClassifier.from_pretrained(tiny_model_dir, backend="onnx")
    with pytest.raises(ValueError, match="backend must be 'auto' or one of"):
        StanceClassifier.from_pretrained(tiny_model_dir, backend="tensorrt")
    with pytest.raises(ValueError, match="CPU only"):
        StanceClassifier.from_pretrained(onnx_dir, device="cuda")


def test_export_refuses_a_non_empty_output(tiny_model_dir, onnx_dir, capsys):
    assert main(["export", str(tiny_model_dir), str(onnx_dir)]) == 1
    assert "not empty" in capsys.readouterr().err


def test_onnx_path_does_not_import_torch(onnx_dir):
    code = (f"import sys; from stance import StanceClassifier; "
            f"StanceClassifier.from_pretrained({str(onnx_dir)!r}).predict(['moscow signed']); "
            f"print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

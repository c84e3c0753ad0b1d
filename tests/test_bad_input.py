"""Bad input of every kind gets an error of the right type whose message says what and where,
and nothing is written while failing."""

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from stance import StanceClassifier
from stance.cli import main as cli
from stance.data import DataError, load_splits
from stance.serving.server import free_port
from training.config import load_config
from training.train import train

GOOD = {"id": "x-1", "text": "moscow signed", "label": "neutral", "topic": "inf_treaty",
        "register": "wire_news", "hard_case": "", "group": "x-1"}


@dataclass
class Env:
    tmp: Path
    clf: StanceClassifier
    model_dir: Path
    data: Path

    def broken_data(self, line: str | bytes) -> Path:
        path = self.data / "validation.jsonl"
        old = path.read_bytes()
        path.write_bytes(old + (line if isinstance(line, bytes) else line.encode()) + b"\n")
        return self.data

    def train_on(self, *overrides: str):
        config = load_config("configs/smoke.yaml", [
            f"data.path={self.data}", f"model.base={self.model_dir}", "model.max_length=32",
            f"tracking.uri=sqlite:///{self.tmp}/mlflow.db", f"output_dir={self.tmp}/models",
            *overrides])
        return train(config)

    def model_folder(self, files: dict[str, bytes]) -> Path:
        folder = self.tmp / "fake-model"
        folder.mkdir()
        for name, content in files.items():
            (folder / name).write_bytes(content)
        return folder

    def relabelled_model(self) -> Path:
        folder = self.tmp / "relabelled"
        self.clf.config.id2label = {0: "for", 1: "against", 2: "neither"}
        self.clf.backend.save(folder)
        return folder


def _mlflow_uri(env: Env, tracking: str, uri: str):
    import mlflow

    mlflow.set_tracking_uri(tracking)
    return lambda: StanceClassifier.from_pretrained(uri)


def _call(fn, *args):
    return lambda: fn(*args)


def _cli_fails(argv: list[str]):
    def run():
        if cli(argv) != 0:
            raise SystemExit("cli failed")
    return run


CASES = [
    # predict
    ("bare string", lambda e: lambda: e.clf.predict("one text"), TypeError, r"pass \[text\]"),
    ("None", lambda e: lambda: e.clf.predict(None), TypeError, "list of strings"),
    ("a number", lambda e: lambda: e.clf.predict(42), TypeError, "got int"),
    ("None inside", lambda e: lambda: e.clf.predict(["ok", None]), TypeError, r"texts\[1\]"),
    ("float inside", lambda e: lambda: e.clf.predict([1.5]), TypeError, r"texts\[0\] must be a str"),
    ("bytes inside", lambda e: lambda: e.clf.predict([b"x"]), TypeError, "got bytes"),
    ("dict inside", lambda e: lambda: e.clf.predict([{"text": "x"}]), TypeError, "got dict"),
    ("empty text", lambda e: lambda: e.clf.predict(["ok", ""]), ValueError, r"texts\[1\] is empty"),
    ("whitespace", lambda e: lambda: e.clf.predict([" \n\t"]), ValueError, r"texts\[0\] is empty"),
    ("zero-width only", lambda e: lambda: e.clf.predict(["\u200b\u200f"]), ValueError, "empty"),
    ("batch size 0", lambda e: lambda: e.clf.predict(["ok"], batch_size=0), ValueError, "batch_size"),
    ("confidence 2", lambda e: lambda: e.clf.predict(["ok"], min_confidence=2), ValueError,
     "min_confidence"),
    # data
    ("malformed json", lambda e: _call(load_splits, e.broken_data("{oops")), DataError,
     r"validation.jsonl:19: malformed JSON"),
    ("missing field", lambda e: _call(load_splits, e.broken_data(json.dumps(
        {k: v for k, v in GOOD.items() if k != "label"}))), DataError, "missing field 'label'"),
    ("unknown label", lambda e: _call(load_splits, e.broken_data(json.dumps(
        GOOD | {"label": "pro_nato"}))), DataError, "unknown label 'pro_nato'"),
    ("duplicate id", lambda e: _call(load_splits, e.broken_data(json.dumps(
        GOOD | {"id": "train-neutral-1"}))), DataError, "duplicate id"),
    ("empty text field", lambda e: _call(load_splits, e.broken_data(json.dumps(
        GOOD | {"text": ""}))), DataError, "field 'text' is empty"),
    ("text not a string", lambda e: _call(load_splits, e.broken_data(json.dumps(
        GOOD | {"text": 7}))), DataError, "'text' must be a string"),
    ("array line", lambda e: _call(load_splits, e.broken_data("[1, 2]")), DataError,
     "expected a JSON object"),
    ("not utf-8", lambda e: _call(load_splits, e.broken_data(b"\xff\xfe")), DataError,
     "not valid UTF-8"),
    ("no test split", lambda e: _call(load_splits, (e.data / "test.jsonl").unlink() or e.data),
     DataError, "test.jsonl: missing split file"),
    ("training on bad data", lambda e: e.broken_data("{") and e.train_on, DataError,
     "malformed JSON"),
    # config
    ("unknown key", lambda e: lambda: load_config(None, ["training.lr=1"]), ValueError,
     "'training.lr'"),
    ("wrong type", lambda e: lambda: load_config(None, ["training.batch_size=big"]), TypeError,
     "'training.batch_size'"),
    ("negative lr", lambda e: lambda: load_config(None, ["training.learning_rate=-1"]),
     ValueError, "'training.learning_rate' must be > 0"),
    ("zero epochs", lambda e: lambda: load_config(None, ["training.epochs=0"]), ValueError,
     "'training.epochs' must be > 0"),
    ("bad device", lambda e: lambda: load_config(None, ["training.device=tpu"]), ValueError,
     r"must be one of \['auto', 'cpu', 'cuda'\]"),
    ("max length above the model", lambda e: lambda: e.train_on("model.max_length=100"),
     ValueError, "above the 64 positions"),
    ("missing base model", lambda e: lambda: e.train_on("model.base=./no/such/encoder"),
     ValueError, "is not a local folder"),
    # model loading
    ("path does not exist", lambda e: lambda: StanceClassifier.from_pretrained(e.tmp / "nope"),
     ValueError, "is not a folder"),
    ("folder is not a model", lambda e: _call(StanceClassifier.from_pretrained, e.model_folder(
        {"notes.txt": b"hi"})), ValueError, "missing \\['config.json'"),
    ("pickle weights only", lambda e: _call(StanceClassifier.from_pretrained, e.model_folder(
        {"config.json": b'{"id2label": {"0": "x"}}', "pytorch_model.bin": b"x"})), ValueError,
     "only safetensors"),
    ("config not json", lambda e: _call(StanceClassifier.from_pretrained, e.model_folder(
        {"config.json": b"{oops"})), ValueError, "config.json is not valid JSON"),
    ("other label list", lambda e: _call(StanceClassifier.from_pretrained, e.relabelled_model()),
     ValueError, "not the expected"),
    ("unknown registered model", lambda e: _mlflow_uri(
        e, f"sqlite:///{e.tmp}/m.db", "models:/no-such-model@champion"), ValueError,
     "models:/no-such-model@champion"),
    ("unreachable tracking server", lambda e: _mlflow_uri(
        e, f"http://127.0.0.1:{free_port()}", "models:/stance-classifier@champion"),
     ValueError, "could not load MLflow model 'models:/stance-classifier@champion'"),
    # CLI: one line on stderr, exit code 1 (checked further in test_cli_errors_are_one_line)
    ("cli unknown model", lambda e: _cli_fails(["predict", "--model", str(e.tmp / "x"), "hi"]),
     SystemExit, "cli failed"),
    ("cli bad jsonl", lambda e: _cli_fails([
        "predict", "--model", str(e.model_dir), "--input", str(e.broken_data("{")
                                                              / "validation.jsonl"),
        "--output", str(e.tmp / "out.jsonl"), "--strict"]), SystemExit, "cli failed"),
    ("cli no passages", lambda e: _cli_fails(["predict", "--model", str(e.model_dir)]),
     SystemExit, "cli failed"),
    ("cli data check", lambda e: _cli_fails(["data", "check", "--path", str(e.broken_data("{"))]),
     SystemExit, "cli failed"),
]


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("name, make, exc, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, make, exc, fragment, tiny_clf, tiny_model_dir, tiny_data, tmp_path):
    env = Env(tmp_path, tiny_clf, tiny_model_dir, tiny_data)
    action = make(env)
    before = _snapshot(tmp_path)
    started = time.perf_counter()
    with pytest.raises(exc, match=fragment):
        action()
    assert time.perf_counter() - started < 30, "an error must come quickly"
    assert _snapshot(tmp_path) - before <= {"m.db"}, "nothing may be written while failing"


def test_cli_errors_are_one_line(tiny_model_dir, tmp_path, capsys):
    bad = tmp_path / "in.jsonl"
    bad.write_text('{"text": "ok"}\n{not json}\n')
    assert cli(["predict", "--model", str(tiny_model_dir), "--input", str(bad),
                "--output", str(tmp_path / "out.jsonl"), "--strict"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("stance: error:") and "in.jsonl: row 2" in err
    with pytest.raises(ValueError):
        cli(["--debug", "predict", "--model", str(tmp_path / "nope"), "hi"])

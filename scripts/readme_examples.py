"""Regenerate the example outputs in README.md from a model (default: the registry champion), so
they cannot go stale. Each example is the block between `<!-- example: NAME -->` and
`<!-- /example -->`; the block is rebuilt from the template below with the model's real output.

    make readme-examples                         # the champion of ./mlflow.db
    python scripts/readme_examples.py --model models/my-run --check   # exit 1 if README is stale

Needs a trained model: `make train` first on a fresh clone.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSAGE = "Interceptors in Poland are aimed at Iran, not at Russia's deterrent."
CLI_PASSAGE = "Moscow keeps selling air-defense batteries to anyone who pays."
REST_PASSAGES = ["Interceptors in Poland are aimed at Iran, not at Russia.",
                 "The first battalion set was delivered in January."]

PYTHON = '''```python
from stance import StanceClassifier

clf = StanceClassifier.from_pretrained("models:/stance-classifier@champion")  # or a local folder
clf.predict(["{passage}"])
{output}
clf.predict_proba(["..."])   # numpy array, shape (n, 3), columns in clf.labels order
clf.labels                   # {labels}
```'''

CLI = '''```bash
stance predict "{passage}"
{output}
```'''

REST = '''```bash
curl -s http://127.0.0.1:5000/invocations -H 'Content-Type: application/json' -d '{{
  "dataframe_records": [
    {{"text": "{first}"}},
    {{"text": "{second}"}}
  ]}}'
{output}
curl -s http://127.0.0.1:5000/ping        # 200 once the model is loaded
```'''


def comment(text: str, width: int = 96, indent: str = "") -> str:
    """`text` as `# ` comment lines no wider than `width`."""
    lines = textwrap.wrap(text, width - 2 - len(indent), subsequent_indent=indent,
                          break_on_hyphens=False, break_long_words=False)
    return "\n".join("# " + line for line in lines)


def python_example(clf) -> str:
    (pred,) = clf.predict([PASSAGE])
    scores = ", ".join(f"'{k}': {v:.2f}" for k, v in pred.scores.items())
    shown = (f"[Prediction(label={pred.label!r}, scores={{{scores}}}, abstained={pred.abstained}, "
             f"flags={pred.flags!r}, evidence={pred.evidence!r})]")
    return PYTHON.format(passage=PASSAGE, output=comment(shown, indent="            "),
                         labels=clf.labels)


def cli_example(model: str) -> str:
    import contextlib
    import io

    from stance.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["predict", "--model", model, CLI_PASSAGE]) == 0
    row = json.loads(out.getvalue())
    row = {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
    return CLI.format(passage=CLI_PASSAGE, output=comment(json.dumps(row), indent="  "))


def rest_example(model: str) -> str:
    """What `mlflow models serve` answers: the logged pyfunc model's own predict, in process."""
    import mlflow
    import pandas as pd

    if not model.startswith(("models:/", "runs:/")):
        return ""
    frame = mlflow.pyfunc.load_model(model).predict(pd.DataFrame({"text": REST_PASSAGES}))
    records = [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()}
               for r in frame.to_dict("records")]
    shown = json.dumps({"predictions": records[:1]})[:-2] + ", ...]}"
    return REST.format(first=REST_PASSAGES[0], second=REST_PASSAGES[1],
                       output=comment(shown, indent="                  "))


def render(readme: str, blocks: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        name = match[1]
        if not blocks.get(name):
            return match[0]
        return f"<!-- example: {name} -->\n{blocks[name]}\n<!-- /example -->"

    return re.sub(r"<!-- example: ([\w-]+) -->\n.*?\n<!-- /example -->", replace, readme,
                  flags=re.S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models:/stance-classifier@champion")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--check", action="store_true", help="only tell whether README is stale")
    args = parser.parse_args()
    from stance import StanceClassifier

    clf = StanceClassifier.from_pretrained(args.model)
    blocks = {"python-predict": python_example(clf), "cli-predict": cli_example(args.model),
              "rest-predict": rest_example(args.model)}
    before = args.readme.read_text(encoding="utf-8")
    after = render(before, blocks)
    if args.check:
        sys.stdout.writelines(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                                   "README.md", "README.md (regenerated)"))
        return int(before != after)
    args.readme.write_text(after, encoding="utf-8")
    print(f"{args.readme}: {'updated' if before != after else 'already current'} "
          f"({', '.join(k for k, v in blocks.items() if v)} from {args.model})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

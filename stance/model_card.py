"""The model card: a README.md written into every saved model folder and logged with its run."""

from __future__ import annotations

from pathlib import Path

from stance.labels import LABELS

LABEL_MEANINGS = {
    "pro_russia": "advances Russia's position: US or NATO missile defense as a threat to "
                  "stability, Russian arms sales as lawful or defensive, sanctions as coercion, "
                  "the US blamed for the end of arms-control treaties",
    "pro_us": "advances the position of the US and its allies: Russian sales as destabilising, "
              "missile defense as limited and aimed at Iran or North Korea, sanctions as "
              "justified, Russia blamed for treaty violations",
    "neutral": "takes neither side: facts without evaluation, both sides given comparable "
               "weight, technical description, calls for dialogue that blame nobody",
}


def _metric_rows(metrics: dict[str, float], splits: list[str]) -> list[str]:
    rows = ["| split | accuracy | macro-F1 | 95% CI | ECE |", "|---|---|---|---|---|"]
    for s in splits:
        if f"{s}_f1_macro" in metrics:
            rows.append(f"| {s} | {metrics[f'{s}_accuracy']:.3f} | {metrics[f'{s}_f1_macro']:.3f}"
                        f" | {metrics[f'{s}_f1_macro_ci_low']:.3f}-"
                        f"{metrics[f'{s}_f1_macro_ci_high']:.3f} | {metrics[f'{s}_ece']:.3f} |")
    return rows


def write_model_card(folder: str | Path, *, run_name: str, base: str, data_counts: dict[str, int],
                     metrics: dict[str, float], temperature: float,
                     behaviour: dict[str, float] | None = None,
                     weakest_slices: list[str] = ()) -> Path:
    """Write `README.md` into `folder` and return its path."""
    lines = [
        f"# stance classifier `{run_name}`", "",
        "Tells which side an English passage takes on Russia-US arms and missile-defense issues.",
        f"Fine-tuned from `{base}`.", "",
        "## Intended use",
        "Triage and measurement of framing in news, official statements and commentary about arms",
        "sales, missile defense and arms control, with a person reviewing what matters.", "",
        "## Not for",
        "Judging the truth of a claim, profiling authors, other topics or languages, or automated",
        "decisions about people. Scores on text unlike the training data (other topics, non-English,",
        "very long documents) are less reliable; `Prediction.flags` marks probable non-English.", "",
        "## Labels", *[f"- `{x}`: {LABEL_MEANINGS[x]}" for x in LABELS], "",
        "## Training data",
        "Hand-written passages (see `data/README.md` in the project): "
        + ", ".join(f"{k} {v}" for k, v in data_counts.items()) + ".", "",
        "## Metrics", *_metric_rows(metrics, ["validation", "test", "challenge"]), "",
        "The challenge split holds only hard cases (irony, negation, quote-then-rebut, reversed "
        "voices) by a separate author and is never used for training or model selection.", "",
        "## Calibration",
        f"Temperature {temperature:.3f} fitted on validation; "
        + (f"validation ECE {metrics['validation_ece_uncalibrated']:.3f} before, "
           f"{metrics['validation_ece']:.3f} after."
           if "validation_ece_uncalibrated" in metrics else "no temperature fitted."), "",
        "## Known failure modes",
    ]
    if behaviour:
        lines.append("Behavioural suite pass rates: "
                     + ", ".join(f"{k} {v:.0%}" for k, v in behaviour.items()) + ".")
    if weakest_slices:
        lines.append("Weakest test slices (macro-F1): " + ", ".join(weakest_slices) + ".")
    lines.append("Passages are scored in overlapping 128-token windows whose logits are averaged, "
                 "so a short stanced sentence inside a long neutral article can be diluted.")
    path = Path(folder) / "README.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

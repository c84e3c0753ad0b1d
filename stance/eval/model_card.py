"""The model card: the README.md of every saved model folder, also logged with its run."""

from __future__ import annotations

from stance.labels import LABELS
from stance.names import EVAL_SPLITS

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


def model_card(*, run_name: str, family: str, base: str, data_counts: dict[str, int],
               metrics: dict[str, float], temperature: float,
               behaviour: dict[str, float] | None = None, weakest_slices: list[str] = ()) -> str:
    """The card's Markdown text."""
    lines = [
        f"# stance classifier `{run_name}`", "",
        "Tells which side an English passage takes on Russia-US arms and missile-defense issues.",
        f"Model family `{family}`" + (f", from `{base}`." if base else "."), "",
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
        "## Metrics", *_metric_rows(metrics, list(EVAL_SPLITS)), "",
        "The challenge split holds only hard cases (irony, negation, quote-then-rebut, reversed "
        "voices) by a separate author; the news split is written in the form of real published "
        "reports (wire copy, state media, statements) by authors who wrote no training passage. "
        "Neither is used for training, model selection or calibration; news is the closest "
        "stand-in for the text users score.", "",
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
    lines.append("Long passages are scored in overlapping windows whose logits are averaged, so a "
                 "short stanced sentence inside a long neutral article can be diluted.")
    return "\n".join(lines) + "\n"

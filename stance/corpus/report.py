"""The one-page HTML report of a scored corpus: headline numbers, the charts (embedded, so the one
file can be forwarded), the shares tables, the most confident passages per side with their
evidence sentences highlighted, and the passages the model abstained on."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from pathlib import Path

from stance.corpus.scored import Passage, Scored
from stance.corpus.summary import GroupShares

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0; font-size: 13px; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
mark { background: #ffe58a; } .method { background: #f4f8ff; padding: .6em 1em; }
.passage { margin: .4em 0 1em; } .meta { color: #666; font-size: 12px; }
img { max-width: 100%; border: 1px solid #eee; } tr.small { color: #aaa; }
"""
MIN_GROUP = 20  # groups under this many passages are greyed: their shares swing widely


def _img(path: Path | None, element_id: str, alt: str) -> str:
    if path is None:
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img id="{element_id}" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def highlighted(passage: Passage, sentences: int = 2) -> str:
    """The passage as HTML with its evidence sentences for its label in <mark>."""
    text = passage.text
    chosen = [e for e in passage.evidence if e.get("label") == passage.label][:sentences] \
        or list(passage.evidence[:1])
    spans = []
    for e in chosen:
        start, end = int(e.get("start", -1)), int(e.get("end", -1))
        if text[start:end] != e.get("text"):  # offsets of the cleaned text: find the sentence
            start = text.find(e.get("text", "\0"))
            end = start + len(e.get("text", ""))
        if start >= 0:
            spans.append((start, end))
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out += [escape(text[at:start]), "<mark>", escape(text[start:end]), "</mark>"]
        at = end
    return "".join(out + [escape(text[at:])])


def _shares_table(groups: Sequence[GroupShares], labels: Sequence[str], element_id: str) -> str:
    keys = groups[0].keys if groups else ()
    head = "".join(f"<th>{escape(k)}</th>" for k in keys) + "<th>n</th>" + \
        "".join(f"<th>{escape(label)}</th>" for label in labels)
    body = []
    for g in groups:
        cells = "".join(f"<td>{escape(v)}</td>" for v in g.values)
        cells += f'<td class="num">{g.shares.n}</td>'
        cells += "".join(f'<td class="num">{g.shares.share[i]:.1%} '
                         f'<span class="meta">({g.shares.low[i]:.1%}–{g.shares.high[i]:.1%})</span></td>'
                         for i in range(len(labels)))
        small = ' class="small"' if g.shares.n < MIN_GROUP else ""
        body.append(f"<tr{small}>{cells}</tr>")
    return f'<table id="{element_id}"><tr>{head}</tr>{"".join(body)}</table>'


def _passages(scored: Scored) -> str:
    parts = []
    for label in scored.labels:
        parts.append(f'<h3>{escape(label)}</h3><div class="side" data-label="{escape(label)}">')
        for p in scored.top.get(label, []):
            keys = ", ".join(f"{k}={v}" for k, v in p.keys.items())
            parts.append(f'<div class="passage"><div class="meta">{escape(p.id)} · p={p.confidence:.2f}'
                         f'{" · " + escape(keys) if keys else ""}</div>{highlighted(p)}</div>')
        parts.append("</div>" if scored.top.get(label) else "<p>none</p></div>")
    return "".join(parts)


def _abstained(scored: Scored) -> str:
    if not scored.unsure:
        return ('<p id="abstained-none">None: no passage was below the confidence threshold (score '
                'with <code>--min-confidence</code> to route unsure passages to a person).</p>')
    head = "<tr><th>id</th><th>passage</th>" + "".join(
        f"<th>{escape(label)}</th>" for label in scored.labels) + "</tr>"
    rows = "".join(
        f"<tr><td>{escape(p.id)}</td><td>{escape(p.text)}</td>"
        + "".join(f'<td class="num">{p.scores[label]:.2f}</td>' for label in scored.labels)
        + "</tr>" for p in scored.unsure)
    more = scored.abstained - len(scored.unsure)
    note = f"<p class='meta'>the {len(scored.unsure)} least confident of {scored.abstained}</p>" \
        if more > 0 else ""
    return f'<table id="abstained">{head}{rows}</table>{note}'


def html_report(title: str, scored: Scored, tables: dict[tuple[str, ...], list[GroupShares]],
                method: str, charts: dict[str, Path | None]) -> str:
    """The whole page as one string."""
    overall = tables[()][0].shares
    headline = "".join(
        f'<li><b>{escape(label)}</b>: {overall.share[i]:.1%} '
        f'({overall.low[i]:.1%}–{overall.high[i]:.1%})</li>' for i, label in enumerate(scored.labels))
    counts = (f"{scored.rows} rows: {len(scored.predicted)} labeled, {scored.abstained} abstained, "
              f"{scored.bad} bad rows (not scored)")
    sections = [f"<h1>{escape(title)}</h1>",
                f'<div id="headline"><p>{counts}</p><ul>{headline}</ul></div>',
                f'<p class="method" id="method">{escape(method)}</p>',
                "<h2>Charts</h2>", _img(charts.get("over_time"), "chart-over-time", "stance over time"),
                _img(charts.get("shares"), "chart-shares", "stance shares per group")]
    for keys, groups in tables.items():
        if keys:
            table = _shares_table(groups, scored.labels, "shares-" + "-".join(keys))
            if len(keys) > 1:  # the long table of every combination: folded
                table = f"<details><summary>{len(groups)} groups</summary>{table}</details>"
            sections += [f"<h2>Shares by {escape(' × '.join(keys))}</h2>", table]
    sections.append(f'<p class="meta">Groups under {MIN_GROUP} passages are greyed: their shares '
                    "swing widely (see the intervals).</p>")
    sections += ['<h2>Most confident passages per side</h2><section id="confident">',
                 _passages(scored), "</section>",
                 "<h2>Passages the model abstained on</h2>", _abstained(scored)]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
            f"</title><style>{STYLE}</style></head><body>{''.join(sections)}</body></html>\n")

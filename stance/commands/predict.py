"""`stance predict`: passages given as arguments, or a table (JSONL, CSV, TSV, Parquet, XLSX) read
and written in chunks, so memory does not grow with the corpus. Output to a file goes through a
resumable parts folder (`stance.writers`) and is renamed into place at the end.

    stance predict --input corpus.csv --output scored.parquet --explain --min-confidence 0.6
    stance predict --input corpus.csv --output scored.parquet --resume
    cat corpus.jsonl | stance predict --input - --format csv > scored.csv
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from stance.names import DEFAULT_MODEL_URI
from stance.scoring import ScoringOptions, check_columns, prediction_columns, prediction_types
from stance.tables import FORMATS, STDIO, STREAMS, Row, columns_of, count_rows, format_of, read_rows


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="label passages given as arguments or a table file")
    p.add_argument("texts", nargs="*", help="passages to label")
    p.add_argument("--model", default=DEFAULT_MODEL_URI, help="folder or MLflow model URI")
    p.add_argument("--input", help="JSONL, CSV, TSV, Parquet or XLSX file ('-': stdin)")
    p.add_argument("--output", type=Path, help="file to write (default: stdout)")
    p.add_argument("--input-format", choices=FORMATS, help="default: from the extension (stdin: jsonl)")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from the extension, "
                                                     "else the input's, else jsonl)")
    p.add_argument("--text-column", "--text-field", dest="text_column", default="text")
    p.add_argument("--id-column", default="id", help="named in the error of a bad row")
    p.add_argument("--min-confidence", type=float, help="abstain below this top probability")
    p.add_argument("--explain", type=int, nargs="?", const=3, default=0, metavar="K",
                   help="add the K sentences (default 3) that carry the stance, with offsets")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run of --output")
    p.add_argument("--strict", action="store_true", help="any bad row is an error")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--chunk-size", type=int, default=1000, help="rows read and written at a time")
    p.set_defaults(run=run)


@dataclass
class Tally:
    rows: int = 0
    bad: int = 0
    abstained: int = 0
    first_error: str = ""
    resumed: int = 0  # rows already in the parts when a run resumed

    def add(self, rows: int, bad: int, abstained: int, errors: list[str] = ()) -> None:
        self.rows += rows
        self.bad += bad
        self.abstained += abstained
        if errors and not self.first_error:
            self.first_error = errors[0]

    def line(self, target: str) -> str:
        bad = f"{self.bad} bad row{'s' * (self.bad != 1)}"
        if self.bad:
            bad += f" (pred_error; first: {self.first_error})" if self.first_error else " (pred_error)"
        resumed = f" ({self.resumed} of them scored before --resume)" if self.resumed else ""
        return (f"stance: {self.rows} rows{resumed}: {self.rows - self.bad} scored, {bad}, "
                f"{self.abstained} abstained -> {target}")


@dataclass
class Job:
    """Everything one predict run needs, resolved from the arguments."""

    source: str
    in_fmt: str
    out_fmt: str
    options: ScoringOptions
    chunk_size: int
    rows: list[Row] | None = None  # passages given as arguments
    columns: list[str] | None = field(default=None)


def _job(args: argparse.Namespace) -> Job:
    if bool(args.texts) == bool(args.input):
        raise ValueError("give passages as arguments or --input FILE, not both or neither")
    if args.chunk_size < 1 or args.batch_size < 1:
        raise ValueError("--chunk-size and --batch-size must be >= 1")
    if args.resume and (not args.output or args.input in (None, STDIO)):
        raise ValueError("--resume needs --input FILE and --output FILE (stdin and stdout cannot "
                         "be resumed)")
    options = ScoringOptions(args.text_column, args.id_column, args.min_confidence, args.explain,
                             args.batch_size, args.strict)
    if args.texts:
        rows = [Row(i, {"text": t}) for i, t in enumerate(args.texts, 1)]
        out_fmt = format_of(args.output, args.format) if args.output else (args.format or "jsonl")
        return Job("arguments", "jsonl", out_fmt, replace(options, text_column="text"),
                   args.chunk_size, rows=rows, columns=["text"])
    in_fmt = format_of(args.input, args.input_format)
    if args.input != STDIO and not Path(args.input).is_file():
        raise ValueError(f"--input {args.input}: no such file")
    if args.output:
        out_fmt = format_of(args.output, args.format)
    else:
        out_fmt = args.format or (in_fmt if in_fmt in STREAMS else "jsonl")
    if not args.output and out_fmt not in STREAMS:
        raise ValueError(f"{out_fmt} output needs --output FILE (stdout takes {', '.join(STREAMS)})")
    columns = columns_of(args.input, in_fmt) if out_fmt != "jsonl" else None
    return Job(args.input, in_fmt, out_fmt, options, args.chunk_size, columns=columns)


def run(args: argparse.Namespace) -> int:
    from stance import StanceClassifier
    from stance.loading import fingerprint, resolve_model

    job = _job(args)
    folder, _ = resolve_model(args.model)
    clf = StanceClassifier.from_pretrained(folder)
    if job.columns is not None:
        check_columns(job.columns, clf.labels, job.options.explain)
    tally = Tally()
    if args.output:
        _to_file(clf, job, args.output, fingerprint(folder), args.resume, tally)
    else:
        _to_stdout(clf, job, tally)
    print(tally.line(str(args.output or "stdout")), file=sys.stderr)
    return 0


def _chunks(job: Job, skip: int = 0):
    if job.rows is not None:
        rows = job.rows[skip:]
        return (rows[i : i + job.chunk_size] for i in range(0, len(rows), job.chunk_size))
    return read_rows(job.source, job.in_fmt, job.chunk_size, skip)


def _scored(clf, job: Job, skip: int, tally: Tally):
    """Each chunk scored, as (rows out, result); stops at a bad row with --strict."""
    from tqdm.auto import tqdm

    from stance.scoring import score_chunk

    total = len(job.rows) if job.rows is not None else count_rows(job.source, job.in_fmt)
    bar = tqdm(total=total, initial=skip, desc="scoring", unit="passage", file=sys.stderr,
               disable=total is not None and total < 2 * job.options.batch_size, smoothing=0.1)
    try:
        for chunk in _chunks(job, skip):
            keys = {k for row in chunk for k in (row.values or {})}
            check_columns(sorted(keys), clf.labels, job.options.explain)
            result = score_chunk(clf, chunk, job.options)
            if job.options.strict and result.errors:
                raise ValueError(f"{job.source}: {result.errors[0]} (--strict)")
            bar.update(len(chunk))
            yield chunk, result
    finally:
        bar.close()


def _writer(clf, job: Job, first_rows: list[dict] | None):
    from stance.writers import PartWriter

    extra = prediction_columns(clf.labels, job.options.explain)
    columns = job.columns
    if columns is None:  # the header (or, for stdin JSONL, the first chunk's keys)
        columns = list(dict.fromkeys(k for r in first_rows or [] for k in r if k not in extra))
    types = prediction_types(clf.labels, job.options.explain)
    if job.in_fmt == "parquet" and job.source != STDIO:
        import pyarrow.parquet as pq

        schema = pq.read_schema(job.source)
        types |= {name: schema.field(name).type for name in schema.names}
    return PartWriter(job.out_fmt, [*columns, *extra], types)


def _to_stdout(clf, job: Job, tally: Tally) -> None:
    writer = None
    for chunk, result in _scored(clf, job, 0, tally):
        if writer is None:
            writer = _writer(clf, job, result.rows)
            header = job.out_fmt != "jsonl"
        _check_known(writer, result.rows, job)
        sys.stdout.write(writer.text(result.rows, header=header))
        sys.stdout.flush()
        header = False
        tally.add(len(chunk), len(result.errors), result.abstained, result.errors)


def _to_file(clf, job: Job, target: Path, model: str, resume: bool, tally: Tally) -> None:
    from stance.writers import PartialOutput

    settings = {"input": _identity(job), "input_format": job.in_fmt, "format": job.out_fmt,
                "model": model, "text_column": job.options.text_column,
                "min_confidence": job.options.min_confidence, "explain": job.options.explain,
                "chunk_size": job.chunk_size}
    partial = PartialOutput(target, settings, resume)
    for part in partial.parts:
        tally.add(part.rows, part.bad, part.abstained)
    tally.resumed = partial.rows_done
    writer = None
    if partial.parts:  # resuming: the columns are the header's, the schema the first part's
        writer = _writer(clf, job, [])
        writer.adopt(partial.parts[0].path)
    try:
        for chunk, result in _scored(clf, job, partial.rows_done, tally):
            writer = writer or _writer(clf, job, result.rows)
            _check_known(writer, result.rows, job)
            partial.add(len(chunk), len(result.errors), result.abstained, writer.ext,
                        lambda f, rows=result.rows: writer.write(rows, f))
            tally.add(len(chunk), len(result.errors), result.abstained, result.errors)
    except ValueError:  # the input is at fault (--strict, a bad file): nothing to resume
        partial.discard()
        raise
    partial.finish((writer or _writer(clf, job, [])).join)


def _identity(job: Job) -> str:
    """What the parts were made from: a file's path, size and modification time."""
    if job.rows is not None or job.source == STDIO:
        return job.source
    stat = Path(job.source).stat()
    return f"{Path(job.source).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _check_known(writer, rows: list[dict], job: Job) -> None:
    """Tabular output has fixed columns: a JSONL key first seen after them cannot be added."""
    if job.out_fmt == "jsonl":
        return
    known = set(writer.columns)
    new = sorted({k for r in rows for k in r} - known)
    if new:
        raise ValueError(f"{job.source}: column(s) {new} first appear after the output's columns "
                         "were fixed; write JSONL, or give the input as a file")

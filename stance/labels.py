"""The fixed label set. Its order is the column order of every probability array."""

LABELS: tuple[str, ...] = ("pro_russia", "pro_us", "neutral")

import json
from pathlib import Path

import pytest
from datasets import ClassLabel, DatasetDict

from stance import LABELS
from stance.data import DataError, data_version, load_splits
from stance.data import check_data
from stance.data import read_unlabeled
from stance.data.profile import BANDS, outside_bands, profile, read_jsonl
from tests.helpers import tiny_records, write_jsonl

ROOT = Path(__file__).resolve().parents[1]


def test_load_splits_gives_classlabel_dataset(tiny_data):
    ds = load_splits(tiny_data)
    assert isinstance(ds, DatasetDict)
    assert set(ds) == {"train", "validation", "test"}
    assert isinstance(ds["train"].features["label"], ClassLabel)
    assert ds["train"].features["label"].names == list(LABELS)
    assert len(ds["train"]) == 60
    first = json.loads((tiny_data / "train.jsonl").read_text().splitlines()[0])
    assert ds["train"][0]["text"] == first["text"]
    assert ds["train"][0]["label"] == LABELS.index(first["label"])


def test_data_version_changes_with_content(tiny_data):
    before = data_version(tiny_data)
    with (tiny_data / "test.jsonl").open("a") as f:
        f.write(json.dumps(tiny_records(1, 9, "extra")[0]) + "\n")
    assert data_version(tiny_data) != before


def test_every_problem_is_reported_with_file_and_line(tiny_data):
    good = tiny_records(1, 5, "x")[0]
    lines = [
        "{not json",
        json.dumps({k: v for k, v in good.items() if k != "topic"} | {"id": "a"}),
        json.dumps(good | {"id": "b", "label": "pro_china"}),
        json.dumps(good | {"id": "c", "text": "  "}),
        json.dumps(good | {"id": "train-neutral-0", "text": "a new text entirely"}),
    ]
    path = tiny_data / "validation.jsonl"
    path.write_text(path.read_text() + "\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        load_splits(tiny_data)
    problems = "\n".join(info.value.problems)
    n = 18  # the tiny validation file has 18 good lines before the bad ones
    assert f"validation.jsonl:{n + 1}: malformed JSON" in problems
    assert f"validation.jsonl:{n + 2}: missing field 'topic'" in problems
    assert f"validation.jsonl:{n + 3}: unknown label 'pro_china'" in problems
    assert f"validation.jsonl:{n + 4}: field 'text' is empty" in problems
    assert f"validation.jsonl:{n + 5}: duplicate id" in problems


def test_non_utf8_and_missing_split_are_reported(tiny_data):
    (tiny_data / "test.jsonl").write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(DataError, match="not valid UTF-8"):
        load_splits(tiny_data)
    (tiny_data / "test.jsonl").unlink()
    with pytest.raises(DataError, match="missing split file"):
        load_splits(tiny_data)


def test_leaks_between_splits_are_caught(tmp_path):
    train = tiny_records(3, 1, "tr")
    test = [dict(train[0], id="te-0"),  # the same text
            dict(train[1], id="te-1", text=train[1]["text"] + " again"),  # a near-copy
            dict(train[2], id="te-2", text="moscow delivered the talks system", group=train[2]["group"])]
    for split, records in (("train", train), ("validation", tiny_records(1, 2, "va")), ("test", test)):
        write_jsonl(tmp_path / f"{split}.jsonl", records)
    problems = "\n".join(check_data(tmp_path).problems)
    assert "duplicate text" in problems
    assert "near-duplicate" in problems
    assert "straddles splits" in problems


def test_unlabeled_passages_are_checked_against_every_split(tiny_data):
    test = [json.loads(x) for x in (tiny_data / "test.jsonl").read_text().splitlines()]
    fresh = [{k: r[k] for k in ("id", "text", "topic", "register")}
             for r in tiny_records(2, 77, "u")]
    write_jsonl(tiny_data / "unlabeled.jsonl", fresh)
    assert check_data(tiny_data).problems == []
    assert [r["id"] for r in read_unlabeled(tiny_data)] == [r["id"] for r in fresh]
    bad = [dict(fresh[0], id="u-copy", text=test[0]["text"]),  # a held-out passage again
           dict(fresh[1], id="u-near", text=test[1]["text"] + " again"),
           dict(fresh[2], id="u-labeled", label="neutral"),
           dict(fresh[3], id="u-no-text", text="")]
    write_jsonl(tiny_data / "unlabeled.jsonl", fresh + bad)
    found = check_data(tiny_data).problems
    assert all(p.startswith(str(tiny_data / "unlabeled.jsonl")) for p in found)
    problems = "\n".join(found)
    n = len(fresh)
    assert f"unlabeled.jsonl:{n + 1}: duplicate text" in problems
    assert f"unlabeled.jsonl:{n + 2}: near-duplicate" in problems
    assert f"unlabeled.jsonl:{n + 3}: an unlabeled passage has a 'label'" in problems
    assert f"unlabeled.jsonl:{n + 4}: field 'text' must be a non-empty string" in problems
    with pytest.raises(DataError, match="has a 'label'"):
        load_splits(tiny_data)  # training refuses them too


def test_shortcut_words_are_caught(tiny_data):
    # In the tiny task every label has cue words, but none is in most passages of its label;
    # give every pro_us passage the same word and it becomes a giveaway.
    path = tiny_data / "train.jsonl"
    records = [json.loads(x) for x in path.read_text().splitlines()]
    for r in records:
        if r["label"] == "pro_us":
            r["text"] += " giveaway"
    write_jsonl(path, records)
    assert any("shortcut word 'giveaway'" in p for p in check_data(tiny_data).problems)


@pytest.fixture(scope="module")
def committed():
    """The committed data checked once (the near-duplicate search takes seconds)."""
    return check_data(ROOT / "data")


def test_committed_data_passes_the_check(committed):
    assert committed.problems == []
    assert committed.n_records > 0


def test_data_card_statistics_match_the_data(committed):
    from stance.data.checks import format_report

    card = (ROOT / "data/README.md").read_text(encoding="utf-8")
    block = card.split("<!-- stats:begin -->\n")[1].split("\n<!-- stats:end -->")[0]
    assert block == format_report(committed.stats)


def test_committed_data_meets_the_dataset_quotas(committed):
    stats = committed.stats
    by_split = stats["label_by_split"]
    total = sum(sum(c.values()) for c in by_split.values())
    assert total >= 6000 and sum(by_split["news"].values()) >= 500
    assert sum(by_split["challenge"].values()) >= 300
    for counts in by_split.values():
        n = sum(counts.values())
        assert all(0.29 <= c / n <= 0.41 for c in counts.values())
    assert len(stats["topic"]) >= 15 and max(stats["topic"].values()) / total <= 0.12
    assert len(stats["register"]) >= 8


@pytest.mark.parametrize("name", sorted(BANDS))
def test_the_realism_profile_sits_in_its_bands(name):
    """The train split at least halfway to real published text; news, and the third round's
    passages, within a few points of it, measure by measure (the bands are in
    stance/data/profile.py and explained in the data card)."""
    if name == "round 3":
        records = [r for split in ("train", "validation", "test")
                   for r in read_jsonl(ROOT / "data" / f"{split}.jsonl") if r["round"] == "3"]
    else:
        records = read_jsonl(ROOT / "data" / f"{name}.jsonl")
    assert outside_bands(profile(records), BANDS[name]) == []


def test_shortcut_phrases_are_caught(tiny_data):
    path = tiny_data / "train.jsonl"
    records = [json.loads(x) for x in path.read_text().splitlines()]
    for r in records[:16]:  # the first 20 are pro_russia: a phrase only they carry
        r["text"] = "as the kremlin put it " + r["text"]
    write_jsonl(path, records)
    problems = check_data(tiny_data).problems
    assert any("shortcut phrase 'as the kremlin put'" in p and "100% pro_russia" in p
               for p in problems)
    assert any("shortcut phrase '^as'" in p for p in problems)  # a sentence opener too


def test_passages_added_to_train_keep_the_stored_assignment(tiny_data, tmp_path):
    from training.make_splits import main

    before = {s: (tiny_data / f"{s}.jsonl").read_text() for s in ("validation", "test")}
    new = write_jsonl(tmp_path / "new.jsonl", tiny_records(2, 7, "new"))
    main(["--add", str(new), "--to", "train", "--out", str(tiny_data)])
    assert len(load_splits(tiny_data)["train"]) == 60 + 6
    assert {s: (tiny_data / f"{s}.jsonl").read_text() for s in before} == before
    # A new passage whose group already lives in test would straddle two splits.
    test_group = json.loads(before["test"].splitlines()[0])["group"]
    clash = write_jsonl(tmp_path / "clash.jsonl", [tiny_records(1, 8, "c")[0] | {"group": test_group}])
    with pytest.raises(DataError, match=f"group {test_group} .* already in split test"):
        main(["--add", str(clash), "--to", "train", "--out", str(tiny_data)])

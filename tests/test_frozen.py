"""Frozen layers computed once (`training.cache_frozen`): starting from the stored outputs gives
the logits of the whole model, for BERT and MPNet; training that way learns, leaves the frozen
weights alone and saves the whole model."""

import pytest
import torch

from stance import LABELS
from tests.helpers import VOCAB
from training.families.transformer import freeze
from training.frozen import frozen_depth, frozen_outputs, top_only


def _tiny(kind: str) -> torch.nn.Module:
    from transformers import BertConfig, BertForSequenceClassification, MPNetConfig, \
        MPNetForSequenceClassification

    torch.manual_seed(0)
    sizes = dict(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=3,
                 num_attention_heads=4, intermediate_size=64, max_position_embeddings=40,
                 num_labels=len(LABELS))
    if kind == "bert":
        return BertForSequenceClassification(BertConfig(**sizes)).eval()
    return MPNetForSequenceClassification(MPNetConfig(**sizes, pad_token_id=0)).eval()


@pytest.mark.parametrize("kind", ["bert", "mpnet"])
def test_starting_from_the_stored_outputs_gives_the_whole_models_logits(kind):
    model = _tiny(kind)
    freeze(model, 2)
    assert frozen_depth(model) == 2
    # Two passages of different lengths: the shorter one is padded (pad id 0).
    ids = torch.tensor([[2, 7, 9, 11, 5, 3], [2, 8, 6, 3, 0, 0]])
    mask = (ids != 0).long()
    whole = model(input_ids=ids, attention_mask=mask).logits
    stored = frozen_outputs(model, 2, [{"input_ids": ids, "attention_mask": mask}])
    assert [h.shape[0] for h in stored] == [6, 4]  # padding dropped
    hidden = torch.nn.utils.rnn.pad_sequence(stored, batch_first=True)
    with top_only(model, 2, hidden):
        from_stored = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(from_stored, whole, atol=1e-5, rtol=1e-5)
    assert len(model.base_model.encoder.layer) == 3  # every layer back after the block


def test_nothing_frozen_means_nothing_to_store():
    model = _tiny("bert")
    assert frozen_depth(model) == 0
    freeze(model, 1)
    model.base_model.embeddings.requires_grad_(True)
    assert frozen_depth(model) == 0  # trainable embeddings: the layers above them vary


@pytest.mark.integration
def test_training_from_stored_outputs_is_training_the_whole_model(tiny_model_dir, tmp_path):
    """Without dropout the frozen layers compute the same in train and eval mode, so both ways
    of training must end with the same weights."""
    import json
    import shutil

    from stance import StanceClassifier
    from tests.helpers import write_tiny_data
    from tests.test_training import _fit

    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "no-dropout")
    config = json.loads((model_dir / "config.json").read_text())
    config |= {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    (model_dir / "config.json").write_text(json.dumps(config))
    data = write_tiny_data(tmp_path / "data")
    args = ("model.freeze_layers=1", "training.epochs=3")
    whole = _fit(model_dir, data, 0, *args)[0].backend.model.state_dict()
    clf, _, history = _fit(model_dir, data, 0, *args, "training.cache_frozen=true")
    assert history[0]["frozen_cache_seconds"] > 0
    saved = StanceClassifier.from_pretrained(clf.save_pretrained(tmp_path / "m"), backend="torch")
    after = saved.backend.model.state_dict()
    assert set(after) == set(whole)  # every layer saved, not only the trained ones
    trained = [k for k in whole if k.startswith(("bert.encoder.layer.1.", "classifier."))]
    initial = _initial(tiny_model_dir)
    assert trained and not any(torch.equal(after[k], initial[k]) for k in trained)
    for key in whole:
        torch.testing.assert_close(after[key], whole[key], atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="'training.cache_frozen' needs model.freeze_layers"):
        _fit(model_dir, data, 0, "training.cache_frozen=true")


def _initial(model_dir) -> dict:
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(model_dir).state_dict()

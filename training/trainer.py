"""A fine-tuning loop you can read in one sitting: AdamW, linear warmup and decay, evaluation
after every epoch, and the best epoch (by validation macro-F1) restored at the end."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, Sampler
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from stance import StanceClassifier
from stance.eval.metrics import classification_metrics
from stance.names import metric
from training.checkpoint import TrainState, load_checkpoint, save_checkpoint
from training.config import TrainingConfig
from training.frozen import frozen_depth, frozen_outputs, top_only

logger = logging.getLogger(__name__)

EpochCallback = Callable[[int, dict[str, float]], None]
_BEST = metric("validation", "f1_macro")  # the epoch kept at the end is the best by this


class LengthGroupedBatches(Sampler[list[int]]):
    """Batches of passages of similar length, in a new random order every epoch.

    Shuffle, sort each run of `chunk` batches' worth of passages by length, cut it into batches
    and shuffle the batches: padding shrinks to a few tokens a batch, while no epoch repeats
    the last one's order (the approach of transformers' `group_by_length`).

    >>> batches = LengthGroupedBatches([5, 9, 2, 7, 3], 2, torch.Generator().manual_seed(0))
    >>> sorted(sorted(b) for b in batches)  # neighbours in length share a batch
    [[0, 4], [1, 3], [2]]
    """

    def __init__(self, lengths: list[int], batch_size: int, generator: torch.Generator,
                 chunk: int = 50):
        self.lengths, self.batch_size, self.generator = lengths, batch_size, generator
        self.span = batch_size * chunk

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        batches = []
        for start in range(0, len(order), self.span):
            run = sorted(order[start : start + self.span], key=lambda i: -self.lengths[i])
            batches += [run[i : i + self.batch_size] for i in range(0, len(run), self.batch_size)]
        for k in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[k]


class Trainer:
    """Fine-tunes the torch model of `classifier` (a `TorchBackend`) in place.

    >>> trainer = Trainer(clf, TrainingConfig(epochs=1), seed=0)  # doctest: +SKIP
    >>> history = trainer.fit(ds["train"], ds["validation"])  # doctest: +SKIP
    """

    def __init__(self, classifier: StanceClassifier, config: TrainingConfig, seed: int,
                 on_epoch_end: EpochCallback | None = None, checkpoint_dir: Path | None = None):
        self.clf = classifier
        self.backend = classifier.backend
        self.config = config
        self.seed = seed
        self.on_epoch_end = on_epoch_end
        self.checkpoint_dir = checkpoint_dir
        self.generator = torch.Generator().manual_seed(seed)  # the shuffle order is seeded too
        self.accelerator = Accelerator(cpu=self.backend.device.type == "cpu",
                                       mixed_precision=config.mixed_precision)
        # With cache_frozen: how many layers are frozen, their outputs, and the seconds it took.
        self.depth, self.cache, self.cache_seconds = 0, None, 0.0

    def _loader(self, dataset) -> DataLoader:
        tok = self.backend.tokenizer
        # `label` (a class index) or `target` (probabilities, from distillation) is kept
        columns = [c for c in dataset.column_names if c not in ("label", "target")]
        encoded = dataset.map(
            lambda batch: {"input_ids": tok(batch["text"], truncation=True,
                                            max_length=self.backend.max_length)["input_ids"]},
            batched=True, remove_columns=columns,
        )
        if self.config.cache_frozen:
            encoded = encoded.add_column("index", list(range(len(encoded))))
            self._build_cache(encoded)
        collate = self._collate
        if not self.config.group_by_length:
            return DataLoader(encoded, batch_size=self.config.batch_size, shuffle=True,
                              generator=self.generator, collate_fn=collate)
        batches = LengthGroupedBatches([len(ids) for ids in encoded["input_ids"]],
                                       self.config.batch_size, self.generator)
        return DataLoader(encoded, batch_sampler=batches, collate_fn=collate)

    def _collate(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        """Pad as prediction does (ids and mask only), so training sees what inference sees.
        `labels` holds class indices, or probabilities when the rows carry a `target`: the
        cross-entropy of the loop takes either."""
        batch = self.backend.tokenizer.pad({"input_ids": [r["input_ids"] for r in rows]},
                                           return_tensors="pt")
        key = "target" if "target" in rows[0] else "label"
        out = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
               "labels": torch.tensor([r[key] for r in rows])}
        if self.cache is not None:
            out["hidden"] = torch.nn.utils.rnn.pad_sequence(
                [self.cache[r["index"]] for r in rows], batch_first=True)
        return out

    def _build_cache(self, encoded) -> None:
        """The frozen layers' output for every passage, computed once (training/frozen.py)."""
        self.depth = frozen_depth(self.backend.model)
        if self.depth == 0:
            raise ValueError("config key 'training.cache_frozen' needs frozen layers "
                             "(model.freeze_layers > 0)")
        start = time.perf_counter()
        ids = encoded["input_ids"]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # little padding
        size, device = self.config.eval_batch_size, self.backend.device
        batches = (self.backend.tokenizer.pad(
            {"input_ids": [ids[i] for i in order[k : k + size]]},
            return_tensors="pt").to(device) for k in range(0, len(order), size))
        outputs = frozen_outputs(self.backend.model, self.depth, batches)
        self.cache = [None] * len(encoded)
        for i, hidden in zip(order, outputs):
            self.cache[i] = hidden
        self.cache_seconds = time.perf_counter() - start
        logger.info("outputs of the %d frozen layers stored for %d passages in %.0f s",
                    self.depth, len(encoded), self.cache_seconds)

    def _optimizer(self, model: torch.nn.Module) -> torch.optim.Optimizer:
        # Biases and LayerNorm weights are not decayed, as in BERT's recipe; frozen weights
        # (model.freeze_layers) are left out.
        trainable = [p for p in model.parameters() if p.requires_grad]
        decay = [p for p in trainable if p.ndim > 1]
        no_decay = [p for p in trainable if p.ndim <= 1]
        groups = [{"params": decay, "weight_decay": self.config.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=self.config.learning_rate)

    def evaluate(self, dataset) -> dict[str, float]:
        """Validation metrics computed through the same path users predict with."""
        proba = self.clf.predict_proba(dataset["text"], batch_size=self.config.eval_batch_size)
        return classification_metrics(dataset["label"], proba, self.clf.labels)

    def fit(self, train, validation, resume: bool = False) -> list[dict[str, float]]:
        """Train for `epochs` (fewer with `patience`), evaluate after each, restore the best;
        returns per-epoch metrics.

        With a `checkpoint_dir`, a checkpoint is written every `checkpoint_every` epochs, and
        `resume=True` continues from the one found there.
        """
        cfg = self.config
        loader = self._loader(train)
        model = self.backend.model
        optimizer = self._optimizer(model)
        total = cfg.epochs * len(loader)
        scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total), total)
        model, optimizer, loader, scheduler = self.accelerator.prepare(
            model, optimizer, loader, scheduler)
        state, best_weights = TrainState(), None
        if resume:
            state, best_weights = load_checkpoint(self.checkpoint_dir, self._unwrap(model),
                                                  optimizer, scheduler, self.generator)
            logger.info("resumed after epoch %d", state.epoch)
        for epoch in range(state.epoch + 1, cfg.epochs + 1):
            metrics = self._epoch(model, optimizer, loader, scheduler, epoch, validation)
            state.history.append(metrics)
            state.epoch = epoch
            if metrics[_BEST] > state.best_f1:
                state.best_f1, state.best_epoch = metrics[_BEST], epoch
                best_weights = {k: v.detach().cpu().clone()
                                for k, v in self._unwrap(model).state_dict().items()}
            self._maybe_checkpoint(model, optimizer, scheduler, state, best_weights)
            if cfg.patience and epoch - state.best_epoch >= cfg.patience:
                logger.info("no better validation macro-F1 for %d epochs: stopping after "
                            "epoch %d", cfg.patience, epoch)
                break
        self.backend.model = self._unwrap(model)
        if best_weights is not None:
            self.backend.model.load_state_dict(best_weights)
        self.backend.model.eval()
        logger.info("restored epoch %d (val macro-F1 %.4f)", state.best_epoch, state.best_f1)
        return state.history

    def _unwrap(self, model) -> torch.nn.Module:
        return self.accelerator.unwrap_model(model)

    def _epoch(self, model, optimizer, loader, scheduler, epoch: int, validation) -> dict:
        start = time.perf_counter()
        train_loss = self._train_epoch(model, optimizer, loader, scheduler, epoch)
        metrics = {"train_loss": train_loss, "seconds": time.perf_counter() - start}
        if self.cache is not None and epoch == 1:
            metrics["frozen_cache_seconds"] = self.cache_seconds
        metrics |= {metric("validation", k): v for k, v in self.evaluate(validation).items()}
        logger.info("epoch %d: %s", epoch, {k: round(v, 4) for k, v in metrics.items()})
        if self.on_epoch_end:
            self.on_epoch_end(epoch, metrics)
        return metrics

    def _maybe_checkpoint(self, model, optimizer, scheduler, state: TrainState,
                          best_weights: dict) -> None:
        every = self.config.checkpoint_every
        if self.checkpoint_dir is None or every == 0 or state.epoch % every:
            return
        if not self.accelerator.is_main_process:  # one writer; the others only read on resume
            return
        save_checkpoint(self.checkpoint_dir, self._unwrap(model).state_dict(), best_weights,
                        optimizer, scheduler, self.generator, state)
        logger.info("checkpoint after epoch %d written to %s", state.epoch, self.checkpoint_dir)

    def _train_epoch(self, model, optimizer, loader, scheduler, epoch: int) -> float:
        model.train()
        total_loss, steps = 0.0, 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{self.config.epochs}", leave=False,
                   disable=not self.accelerator.is_local_main_process)
        for batch in bar:
            labels, hidden = batch.pop("labels"), batch.pop("hidden", None)
            with (top_only(self._unwrap(model), self.depth, hidden) if hidden is not None
                  else nullcontext()):
                logits = model(**batch).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), labels)
            self.accelerator.backward(loss)
            self.accelerator.clip_grad_norm_(model.parameters(), self.config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            total_loss, steps = total_loss + loss.item(), steps + 1
            bar.set_postfix(loss=f"{total_loss / steps:.4f}")
        model.eval()
        return total_loss / max(steps, 1)

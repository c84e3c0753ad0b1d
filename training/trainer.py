"""A fine-tuning loop you can read in one sitting: AdamW, linear warmup and decay, evaluation
after every epoch, and the best epoch (by validation macro-F1) restored at the end."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import DataCollatorWithPadding, get_linear_schedule_with_warmup

from stance import StanceClassifier
from stance.evaluation import classification_metrics
from training.config import TrainingConfig

logger = logging.getLogger(__name__)

EpochCallback = Callable[[int, dict[str, float]], None]


class Trainer:
    """Fine-tunes `classifier.model` in place.

    >>> trainer = Trainer(clf, TrainingConfig(epochs=1), seed=0)  # doctest: +SKIP
    >>> history = trainer.fit(ds["train"], ds["validation"])  # doctest: +SKIP
    """

    def __init__(self, classifier: StanceClassifier, config: TrainingConfig, seed: int,
                 on_epoch_end: EpochCallback | None = None):
        self.clf = classifier
        self.config = config
        self.seed = seed
        self.on_epoch_end = on_epoch_end
        self.accelerator = Accelerator(cpu=classifier.device.type == "cpu",
                                       mixed_precision=config.mixed_precision)

    def _loader(self, dataset) -> DataLoader:
        tok = self.clf.tokenizer
        columns = [c for c in dataset.column_names if c != "label"]
        encoded = dataset.map(
            lambda batch: tok(batch["text"], truncation=True, max_length=self.clf.max_length),
            batched=True, remove_columns=columns,
        ).rename_column("label", "labels")
        generator = torch.Generator().manual_seed(self.seed)  # the shuffle order is seeded too
        return DataLoader(encoded, batch_size=self.config.batch_size, shuffle=True,
                          generator=generator, collate_fn=DataCollatorWithPadding(tok))

    def _optimizer(self, model: torch.nn.Module) -> torch.optim.Optimizer:
        # Biases and LayerNorm weights are not decayed, as in BERT's recipe.
        decay = [p for n, p in model.named_parameters() if p.ndim > 1]
        no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
        groups = [{"params": decay, "weight_decay": self.config.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=self.config.learning_rate)

    def evaluate(self, dataset) -> dict[str, float]:
        """Validation metrics computed through the same path users predict with."""
        proba = self.clf.predict_proba(dataset["text"], batch_size=self.config.eval_batch_size)
        return classification_metrics(dataset["label"], proba, self.clf.labels)

    def fit(self, train, validation) -> list[dict[str, float]]:
        """Train for `epochs`, evaluate after each, restore the best; returns per-epoch metrics."""
        cfg = self.config
        loader = self._loader(train)
        model = self.clf.model
        optimizer = self._optimizer(model)
        total = cfg.epochs * math.ceil(len(loader))
        scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total), total)
        model, optimizer, loader, scheduler = self.accelerator.prepare(
            model, optimizer, loader, scheduler)
        history, best_f1, best_state = [], -1.0, None
        for epoch in range(1, cfg.epochs + 1):
            start = time.perf_counter()
            train_loss = self._train_epoch(model, optimizer, loader, scheduler, epoch)
            metrics = {"train_loss": train_loss, "epoch_seconds": time.perf_counter() - start}
            metrics |= {f"val_{k}": v for k, v in self.evaluate(validation).items()}
            history.append(metrics)
            logger.info("epoch %d: %s", epoch, {k: round(v, 4) for k, v in metrics.items()})
            if self.on_epoch_end:
                self.on_epoch_end(epoch, metrics)
            if metrics["val_f1_macro"] > best_f1:
                best_f1, best_epoch = metrics["val_f1_macro"], epoch
                unwrapped = self.accelerator.unwrap_model(model)
                best_state = {k: v.detach().cpu().clone() for k, v in unwrapped.state_dict().items()}
        self.clf.model = self.accelerator.unwrap_model(model)
        self.clf.model.load_state_dict(best_state)
        self.clf.model.eval()
        logger.info("restored epoch %d (val macro-F1 %.4f)", best_epoch, best_f1)
        return history

    def _train_epoch(self, model, optimizer, loader, scheduler, epoch: int) -> float:
        model.train()
        total_loss, steps = 0.0, 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{self.config.epochs}", leave=False,
                   disable=not self.accelerator.is_local_main_process)
        for batch in bar:
            loss = model(**batch).loss
            self.accelerator.backward(loss)
            self.accelerator.clip_grad_norm_(model.parameters(), self.config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            total_loss, steps = total_loss + loss.item(), steps + 1
            bar.set_postfix(loss=f"{total_loss / steps:.4f}")
        model.eval()
        return total_loss / max(steps, 1)

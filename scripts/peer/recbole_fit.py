"""RecBole 1.2.1 trained to its early stop on ML-100K at the anchor's protocol, then tested.

Run by scripts/compare-recbole inside its venv; never part of the product or of CI. Usage:
    recbole_fit.py DATA_DIR MODEL MAX_EPOCHS     (MODEL: GRU4Rec or SASRec)
The configuration is what `skipwise ml100k --backbone …` trains: max length 50, full-softmax
CE, Adam 1e-3, batch 4096, all ratings positive, leave-one-out by time, full ranking, early stop
after 10 epochs without a better validation MRR@10; each model at RecBole's own defaults
(GRU4Rec: emb 64, hidden 128, dropout 0.3; SASRec: hidden 64, 2 layers, 2 heads, inner 256, GELU,
dropout 0.5 / 0.5). Prints one JSON line.
"""
import json
import os
import sys
import time

import torch
from recbole.data import create_dataset, data_preparation
from recbole.model.sequential_recommender import GRU4Rec, SASRec
from recbole.trainer import Trainer
from recbole.utils import init_seed

from anchor_config import anchor_config

data_dir, model_name, max_epochs = os.path.abspath(sys.argv[1]), sys.argv[2], int(sys.argv[3])
config = anchor_config(
    data_dir,
    model_name,
    epochs=max_epochs,
    stopping_step=10,
    valid_metric="MRR@10",
    metrics=["Hit", "MRR", "NDCG"],
    topk=[10, 20],
    eval_batch_size=4096,
)
init_seed(config["seed"], config["reproducibility"])
dataset = create_dataset(config)
train, valid, test = data_preparation(config, dataset)
model = {"GRU4Rec": GRU4Rec, "SASRec": SASRec}[model_name](config, train.dataset).to(config["device"])
trainer = Trainer(config, model)
start = time.perf_counter()
best_valid, _ = trainer.fit(train, valid, saved=True, show_progress=False)
seconds = time.perf_counter() - start
result = trainer.evaluate(test, load_best_model=True, show_progress=False)
print(json.dumps({
    "peer": "RecBole 1.2.1",
    "model": model_name,
    "torch": torch.__version__,
    "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
    "fit_seconds": seconds,
    "best_valid": {k: float(v) for k, v in best_valid.items()},
    "test": {k: float(v) for k, v in result.items()},
}))

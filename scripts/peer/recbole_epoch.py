"""One or more training epochs of RecBole's GRU4Rec (or SASRec) at the ML-100K anchor's configuration, timed.

Run by scripts/bench-recbole inside its own venv; never part of the product or of CI. The
configuration is the one `skipwise ml100k` reproduces (emb 64, hidden 128, dropout 0.3, max
length 50, full-softmax CE, Adam 1e-3, batch 4096, leave-one-out by time). Prints one JSON line.
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

data_dir, epochs = os.path.abspath(sys.argv[1]), int(sys.argv[2])
name = sys.argv[3] if len(sys.argv) > 3 else "GRU4Rec"
config = anchor_config(data_dir, name)
init_seed(config["seed"], config["reproducibility"])
dataset = create_dataset(config)
train, _valid, _test = data_preparation(config, dataset)
model = {"GRU4Rec": GRU4Rec, "SASRec": SASRec}[name](config, train.dataset).to(config["device"])
trainer = Trainer(config, model)
seconds = []
for epoch in range(epochs):
    start = time.perf_counter()
    trainer._train_epoch(train, epoch, show_progress=False)
    seconds.append(time.perf_counter() - start)
print(json.dumps({
    "peer": "RecBole 1.2.1",
    "model": name,
    "torch": torch.__version__,
    "torch_threads": torch.get_num_threads(),
    "train_examples": len(train.dataset),
    "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
    "epoch_seconds": seconds,
}))

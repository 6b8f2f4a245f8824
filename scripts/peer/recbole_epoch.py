"""One or more training epochs of RecBole's GRU4Rec at the ML-100K anchor's configuration, timed.

Run by scripts/bench-recbole inside its own venv; never part of the product or of CI. The
configuration is the one `skipwise ml100k` reproduces (emb 64, hidden 128, dropout 0.3, max
length 50, full-softmax CE, Adam 1e-3, batch 4096, leave-one-out by time). Prints one JSON line.
"""
import json
import os
import sys
import tempfile
import time

import torch
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.model.sequential_recommender import GRU4Rec
from recbole.trainer import Trainer
from recbole.utils import init_seed

data_dir, epochs = os.path.abspath(sys.argv[1]), int(sys.argv[2])
# RecBole writes log/ and log_tensorboard/ into the working directory: keep them out of the repo.
scratch = tempfile.mkdtemp(prefix="recbole-")
os.chdir(scratch)
checkpoints = os.path.join(scratch, "checkpoints")
config = Config(
    model="GRU4Rec",
    dataset="ml-100k",
    config_dict={
        "data_path": data_dir,
        "checkpoint_dir": checkpoints,
        "use_gpu": False,
        "seed": 2020,
        "reproducibility": True,
        "show_progress": False,
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "MAX_ITEM_LIST_LENGTH": 50,
        "train_neg_sample_args": None,
        "loss_type": "CE",
        "embedding_size": 64,
        "hidden_size": 128,
        "num_layers": 1,
        "dropout_prob": 0.3,
        "learning_rate": 0.001,
        "train_batch_size": 4096,
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full"},
    },
)
init_seed(config["seed"], config["reproducibility"])
dataset = create_dataset(config)
train, _valid, _test = data_preparation(config, dataset)
model = GRU4Rec(config, train.dataset).to(config["device"])
trainer = Trainer(config, model)
seconds = []
for epoch in range(epochs):
    start = time.perf_counter()
    trainer._train_epoch(train, epoch, show_progress=False)
    seconds.append(time.perf_counter() - start)
print(json.dumps({
    "peer": "RecBole 1.2.1",
    "torch": torch.__version__,
    "torch_threads": torch.get_num_threads(),
    "train_examples": len(train.dataset),
    "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
    "epoch_seconds": seconds,
}))

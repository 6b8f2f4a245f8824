"""The ML-100K anchor's RecBole configuration, shared by the peer scripts (never part of the
product or of CI): max length 50, full-softmax CE, Adam 1e-3, batch 4096, all ratings positive,
leave-one-out by time, full ranking, seed 2020 — what `skipwise ml100k` reproduces."""
import os
import tempfile

# RecBole's GRU4Rec at the anchor's sizes; SASRec runs at RecBole's own defaults.
MODEL_DEFAULTS = {
    "GRU4Rec": {"embedding_size": 64, "hidden_size": 128, "num_layers": 1, "dropout_prob": 0.3},
    "SASRec": {},
}


def anchor_config(data_dir, model, **extra):
    """A RecBole Config for `model` on data_dir/ml-100k. RecBole writes log/ and
    log_tensorboard/ into the working directory, so this moves into a fresh temporary one."""
    from recbole.config import Config

    scratch = tempfile.mkdtemp(prefix="recbole-")
    os.chdir(scratch)
    return Config(
        model=model,
        dataset="ml-100k",
        config_dict={
            "data_path": os.path.abspath(data_dir),
            "checkpoint_dir": os.path.join(scratch, "checkpoints"),
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
            "learning_rate": 0.001,
            "train_batch_size": 4096,
            "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full"},
            **MODEL_DEFAULTS[model],
            **extra,
        },
    )

"""Trial that records what its contract gave it (argv, environment, files) as JSON."""
import json
import os
import sys

trial_dir = os.environ["PIPETUNE_TRIAL_DIR"]
seen = {"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items()
                                      if k.startswith(("SM_", "HP_", "AIP_", "CLOUD_ML_", "PIPETUNE_"))}}
hp_file = os.environ.get("SM_INPUT_CONFIG_DIR")
if hp_file:
    with open(os.path.join(hp_file, "hyperparameters.json")) as fh:
        seen["hyperparameters.json"] = json.load(fh)
model_dir = os.environ.get("SM_MODEL_DIR") or os.environ.get("AIP_MODEL_DIR")
if model_dir:
    with open(os.path.join(model_dir, "model.txt"), "w") as fh:
        fh.write("weights")
with open(os.path.join(trial_dir, "seen.json"), "w") as fh:
    json.dump(seen, fh)
metric_file = os.environ.get("CLOUD_ML_HP_METRIC_FILE")
if metric_file:
    import hypertune

    ht = hypertune.HyperTune()
    for step in (1, 2, 3):
        ht.report_hyperparameter_tuning_metric("loss", 1.0 / step, global_step=step)
else:
    print("loss=0.5")

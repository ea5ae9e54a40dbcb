"""A trial that records exactly what it received: argv, PIPETUNE_/SM_HP_ env, files."""
import json
import os
import sys

out = {"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items() if k.startswith(("SM_HP_", "PT_", "HP_"))}}
hp = "/opt/ml/input/config/hyperparameters.json"
path = os.environ.get("SM_INPUT_CONFIG_DIR")
if path and os.path.exists(os.path.join(path, "hyperparameters.json")):
    out["hp_file"] = json.load(open(os.path.join(path, "hyperparameters.json")))
json.dump(out, open(os.environ["ECHO_TO"], "w"))
print("acc=1")

"""A SageMaker-style trial: training data from the channel SM_CHANNEL_TRAIN (a directory)."""

import glob
import os
import sys

sys.argv = [sys.argv[0]] + [a for pair in zip(sys.argv[1::2], sys.argv[2::2])
                            for a in (f"{pair[0]}={pair[1]}",)]
files = glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv"))
assert len(files) == 1, files
sys.argv.append(f"--data={files[0]}")

from proxy_ridge_trial import main  # noqa: E402

main()

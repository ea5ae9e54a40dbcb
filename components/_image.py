"""Where pipetune's components run: one container image, set in one place.

Every component runs on the pipetune component image (built from this checkout's
``Dockerfile`` with ``make image``: pipetune with its ``aws``, ``gcp`` and ``kfp`` extras), so
a step needs no install at start and every backend works inside it. The image is
versioned with the package: ``<repository>:<pipetune version>``.

To run on your cluster, build the image, push it to a registry your cluster pulls from,
and point the components at it **before importing** ``pipetune.components``, then compile::

    make image IMAGE=us-docker.pkg.dev/my-project/ml/pipetune      # builds and tags :<version>
    docker push us-docker.pkg.dev/my-project/ml/pipetune:0.1.0
    export PIPETUNE_IMAGE=us-docker.pkg.dev/my-project/ml/pipetune:0.1.0
    python pipelines/kfp/continuous_training.py                     # compiles against it

Example:
    >>> from pipetune.components._image import IMAGE, DEFAULT_IMAGE
    >>> IMAGE.endswith(":" + __import__("pipetune").__version__) or IMAGE != DEFAULT_IMAGE
    True
"""

from __future__ import annotations

import functools
import os

from kfp import dsl

from pipetune import __version__

#: The repository ``make image`` tags by default; the tag is the package version.
DEFAULT_REPOSITORY = "ghcr.io/pipetune/pipetune"
DEFAULT_IMAGE = f"{DEFAULT_REPOSITORY}:{__version__}"
#: The image every pipetune component runs on: ``$PIPETUNE_IMAGE``, else the default.
IMAGE = os.environ.get("PIPETUNE_IMAGE", "").strip() or DEFAULT_IMAGE

#: ``@pipetune_component`` is ``@dsl.component`` on the pipetune image, which already holds
#: pipetune and kfp: nothing is pip-installed when the step starts.
pipetune_component = functools.partial(dsl.component, base_image=IMAGE, install_kfp_package=False)

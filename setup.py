"""Maps the product card's folders onto import names: ``components/`` is
``pipetune.components`` and ``airflow_provider/`` is ``pipetune.airflow``. Metadata lives in
pyproject.toml; this file only computes the package list, which a static table cannot."""

from setuptools import find_packages, setup

ROOTS = {"pipetune": "pipetune", "pipetune.components": "components",
         "pipetune.airflow": "airflow_provider"}

packages, package_dir = [], {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=package_dir)

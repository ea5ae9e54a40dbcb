"""Issue 21's mixed, conditional and noisy scikit-learn tasks (data bundled with scikit-learn).

Two kinds, each minimised:

- **Conditional, deterministic** (fixed 50/50 split, fixed model seeds): a pipeline that picks
  a preprocessing step and a model family, each with its own children. The value a tuner
  sees is the value it is judged on.
- **Noisy** (``NOISY``): every evaluation draws a fresh 50/50 split and model seed from its
  *evaluation seed*, as a tuner sees a real random-split validation score. A tuner is judged
  on the *expected* value of the configuration it would recommend (its best observed trial):
  the mean over ``TRUE_SEEDS`` fixed seeds that no tuner ever sees
  (:meth:`benchmarks.problems.Problem.true_value`), not on its luckiest draw.

Classification tasks score ``1 - accuracy`` on digits (898 validation points: fine-grained)
or the log loss on breast cancer (continuous); regression tasks score MSE / var(y) on
diabetes. Each evaluation takes well under a second on one core (``RESULTS.md``).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import numpy as np

#: seeds of the noise-free (expected) value of a noisy task's configuration; disjoint from
#: the evaluation seeds (:func:`evaluation_seed`), which come from another seed sequence
TRUE_SEEDS = 16
_TRUE_KEY = 20261207  # the seed sequence's first word for the noise-free seeds


def evaluation_seed(run_seed: int, trial_number: int) -> int:
    """The seed of trial ``trial_number`` in a run with ``run_seed``: the same for every
    contender (common random numbers), different per trial and run.

    Example:
        >>> evaluation_seed(0, 1) != evaluation_seed(0, 2) != evaluation_seed(1, 1)
        True
    """
    return int(np.random.SeedSequence([int(run_seed), int(trial_number)]).generate_state(1)[0])


def true_seeds(n: int = TRUE_SEEDS) -> list[int]:
    """The ``n`` fixed seeds the noise-free value averages over."""
    return [int(s) for s in np.random.SeedSequence(_TRUE_KEY).generate_state(n)]


@functools.lru_cache(maxsize=None)
def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    loader = {"breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits,
              "diabetes": datasets.load_diabetes}[name]
    X, y = loader(return_X_y=True)
    return X.astype(float), y


def _split(name: str, seed: int, regression: bool):
    from sklearn.model_selection import train_test_split

    X, y = _raw(name)
    return train_test_split(X, y, test_size=0.5, random_state=seed,
                            stratify=None if regression else y)


def _score(model, name: str, seed: int, metric: str) -> float:
    """Fit on one half of a ``seed``-split, score the other half (lower is better)."""
    from sklearn.metrics import log_loss

    Xa, Xb, ya, yb = _split(name, seed, metric == "mse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Xa, ya)
        if metric == "log_loss":
            return float(log_loss(yb, np.clip(model.predict_proba(Xb), 1e-6, 1 - 1e-6)))
        pred = model.predict(Xb)
    if metric == "mse":
        return float(np.mean((pred - yb) ** 2) / np.var(yb))
    return float(np.mean(pred != yb))


def _pipe(*steps):
    from sklearn.pipeline import make_pipeline

    return make_pipeline(*[s for s in steps if s is not None])


def _scaler(kind: str):
    from sklearn.preprocessing import MinMaxScaler, QuantileTransformer, StandardScaler

    return {"standard": StandardScaler(), "minmax": MinMaxScaler(), "none": None,
            "quantile": QuantileTransformer(n_quantiles=100)}[kind]


# ---- conditional, deterministic ----------------------------------------------------------
def pipeline_digits(v: dict[str, Any], seed: int = 0) -> float:
    """Scaler, optional PCA (its size a child), and a model family with its own children."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    reduce = PCA(n_components=v["pca_components"], random_state=0) if v["reduce"] == "pca" else None
    model = {"logreg": lambda: LogisticRegression(C=v["logreg_C"], max_iter=200),
             "svm": lambda: SVC(C=v["svm_C"], gamma=v["svm_gamma"]),
             "knn": lambda: KNeighborsClassifier(n_neighbors=v["knn_k"], weights=v["knn_weights"]),
             }[v["model"]]()
    return _score(_pipe(_scaler(v["scaler"]), reduce, model), "digits", seed, "error")


def features_diabetes(v: dict[str, Any], seed: int = 0) -> float:
    """A feature map (raw, polynomial or spline, with their children) then a regressor family."""
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler

    features = {"raw": lambda: None,
                "poly": lambda: PolynomialFeatures(degree=2,
                                                   interaction_only=v["poly_interaction_only"]),
                "spline": lambda: SplineTransformer(n_knots=v["spline_knots"],
                                                    degree=v["spline_degree"])}[v["features"]]()
    model = {"ridge": lambda: Ridge(alpha=v["ridge_alpha"]),
             "kernel_ridge": lambda: KernelRidge(kernel="rbf", alpha=v["kr_alpha"],
                                                 gamma=v["kr_gamma"]),
             "knn": lambda: KNeighborsRegressor(n_neighbors=v["knn_k"], weights=v["knn_weights"]),
             }[v["model"]]()
    return _score(_pipe(StandardScaler(), features, StandardScaler() if features else None,
                        model), "diabetes", seed, "mse")


# ---- noisy -------------------------------------------------------------------------------
def svm_kernels_digits(v: dict[str, Any], seed: int) -> float:
    """SVC whose kernel choice activates its own children (gamma, degree, coef0)."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    kernel = v["kernel"]
    model = SVC(C=v["C"], kernel=kernel, gamma=v.get("gamma", "scale"),
                degree=v.get("degree", 3), coef0=v.get("coef0", 0.0), max_iter=20_000)
    return _score(_pipe(StandardScaler(), model), "digits", seed, "error")


def model_family_breast_cancer(v: dict[str, Any], seed: int) -> float:
    """Log loss of a model family (logistic regression, random forest, gradient boosting),
    each with its children; the split and the model's seed vary per evaluation."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    model = {
        "logreg": lambda: _pipe(StandardScaler(), LogisticRegression(C=v["logreg_C"],
                                                                     max_iter=500)),
        "forest": lambda: RandomForestClassifier(
            n_estimators=v["forest_trees"], max_features=v["forest_max_features"],
            min_samples_leaf=v["forest_min_leaf"], random_state=seed % 2**31),
        "boosting": lambda: HistGradientBoostingClassifier(
            learning_rate=v["hgb_learning_rate"], max_iter=v["hgb_iter"],
            max_leaf_nodes=v["hgb_leaves"], early_stopping=False, random_state=seed % 2**31),
    }[v["model"]]()
    return _score(model, "breast_cancer", seed, "log_loss")


def hgb_diabetes_noisy(v: dict[str, Any], seed: int) -> float:
    """Gradient boosting on diabetes, numeric parameters only (``auto`` picks GP here); the
    noise is the split, drawn per evaluation."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(
        learning_rate=v["learning_rate"], max_iter=v["max_iter"],
        max_leaf_nodes=v["max_leaf_nodes"], min_samples_leaf=v["min_samples_leaf"],
        l2_regularization=v["l2_regularization"], early_stopping=False,
        random_state=seed % 2**31)
    return _score(model, "diabetes", seed, "mse")


def forest_diabetes_noisy(v: dict[str, Any], seed: int) -> float:
    """Random forest regression: integers, a float, a boolean and a categorical criterion;
    the bootstrap and the split vary per evaluation."""
    from sklearn.ensemble import RandomForestRegressor

    model = RandomForestRegressor(
        n_estimators=v["n_estimators"], max_depth=v["max_depth"],
        min_samples_leaf=v["min_samples_leaf"], max_features=v["max_features"],
        bootstrap=v["bootstrap"], criterion=v["criterion"], random_state=seed % 2**31)
    return _score(model, "diabetes", seed, "mse")


def _child(parent: str, *values: Any) -> dict[str, Any]:
    return {"condition": {"parent": parent, "values": list(values)}}


def _log(name: str, lo: float, hi: float, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "continuous", "min": lo, "max": hi, "scaling": "log", **extra}


#: name -> (parameters, value(params, seed)); ``seed`` is the split/model seed of one evaluation
TASKS: dict[str, tuple[list[dict[str, Any]], Callable[[dict[str, Any], int], float]]] = {
    "pipeline_digits": ([
        {"name": "scaler", "type": "categorical", "values": ["standard", "minmax", "none"]},
        {"name": "reduce", "type": "categorical", "values": ["none", "pca"]},
        {"name": "pca_components", "type": "integer", "min": 5, "max": 60, "scaling": "log",
         **_child("reduce", "pca")},
        {"name": "model", "type": "categorical", "values": ["logreg", "svm", "knn"]},
        _log("logreg_C", 1e-4, 1e2, **_child("model", "logreg")),
        _log("svm_C", 1e-2, 1e3, **_child("model", "svm")),
        _log("svm_gamma", 1e-5, 1.0, **_child("model", "svm")),
        {"name": "knn_k", "type": "integer", "min": 1, "max": 50, "scaling": "log",
         **_child("model", "knn")},
        {"name": "knn_weights", "type": "categorical", "values": ["uniform", "distance"],
         **_child("model", "knn")},
    ], pipeline_digits),
    "features_diabetes": ([
        {"name": "features", "type": "categorical", "values": ["raw", "poly", "spline"]},
        {"name": "poly_interaction_only", "type": "categorical", "values": [True, False],
         **_child("features", "poly")},
        {"name": "spline_knots", "type": "integer", "min": 2, "max": 8,
         **_child("features", "spline")},
        {"name": "spline_degree", "type": "integer", "min": 1, "max": 3,
         **_child("features", "spline")},
        {"name": "model", "type": "categorical", "values": ["ridge", "kernel_ridge", "knn"]},
        _log("ridge_alpha", 1e-4, 1e4, **_child("model", "ridge")),
        _log("kr_alpha", 1e-4, 1e2, **_child("model", "kernel_ridge")),
        _log("kr_gamma", 1e-5, 1.0, **_child("model", "kernel_ridge")),
        {"name": "knn_k", "type": "integer", "min": 1, "max": 60, "scaling": "log",
         **_child("model", "knn")},
        {"name": "knn_weights", "type": "categorical", "values": ["uniform", "distance"],
         **_child("model", "knn")},
    ], features_diabetes),
    "svm_kernels_digits_noisy": ([
        {"name": "kernel", "type": "categorical", "values": ["linear", "rbf", "poly", "sigmoid"]},
        _log("C", 1e-3, 1e3),
        _log("gamma", 1e-5, 1.0, **_child("kernel", "rbf", "poly", "sigmoid")),
        {"name": "degree", "type": "integer", "min": 2, "max": 5, **_child("kernel", "poly")},
        {"name": "coef0", "type": "continuous", "min": -1.0, "max": 1.0,
         **_child("kernel", "poly", "sigmoid")},
    ], svm_kernels_digits),
    "model_family_breast_cancer_noisy": ([
        {"name": "model", "type": "categorical", "values": ["logreg", "forest", "boosting"]},
        _log("logreg_C", 1e-4, 1e3, **_child("model", "logreg")),
        {"name": "forest_trees", "type": "integer", "min": 5, "max": 100, "scaling": "log",
         **_child("model", "forest")},
        {"name": "forest_max_features", "type": "continuous", "min": 0.05, "max": 1.0,
         **_child("model", "forest")},
        {"name": "forest_min_leaf", "type": "integer", "min": 1, "max": 30,
         **_child("model", "forest")},
        _log("hgb_learning_rate", 1e-3, 1.0, **_child("model", "boosting")),
        {"name": "hgb_iter", "type": "integer", "min": 10, "max": 150, "scaling": "log",
         **_child("model", "boosting")},
        {"name": "hgb_leaves", "type": "integer", "min": 2, "max": 32, "scaling": "log",
         **_child("model", "boosting")},
    ], model_family_breast_cancer),
    "hgb_diabetes_noisy": ([
        _log("learning_rate", 1e-3, 1.0),
        {"name": "max_iter", "type": "integer", "min": 10, "max": 150, "scaling": "log"},
        {"name": "max_leaf_nodes", "type": "integer", "min": 2, "max": 64, "scaling": "log"},
        {"name": "min_samples_leaf", "type": "integer", "min": 1, "max": 50},
        _log("l2_regularization", 1e-6, 10.0),
    ], hgb_diabetes_noisy),
    "forest_diabetes_noisy": ([
        {"name": "n_estimators", "type": "integer", "min": 5, "max": 60, "scaling": "log"},
        {"name": "max_depth", "type": "integer", "min": 1, "max": 20},
        {"name": "min_samples_leaf", "type": "integer", "min": 1, "max": 40, "scaling": "log"},
        {"name": "max_features", "type": "continuous", "min": 0.1, "max": 1.0},
        {"name": "bootstrap", "type": "categorical", "values": [True, False]},
        {"name": "criterion", "type": "categorical",
         "values": ["squared_error", "poisson"]},
    ], forest_diabetes_noisy),
}

#: the tasks whose every evaluation draws a fresh split and model seed
NOISY = frozenset(name for name in TASKS if name.endswith("_noisy"))

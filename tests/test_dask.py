"""Scale-out with dask: a grid search on a local cluster, predict over a dask column.

The cluster lives in a subprocess, so its scheduler, worker processes and
threads can never leak into the test process; the test compares what the
subprocess prints with the same computation done in memory.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skrnn import RNNClassifier, TextOneHotEncoder
from skrnn.datasets import make_movie_reviews

pytest.importorskip("distributed")

pytestmark = [
    # ~11 s with a warm Numba cache, ~16 s cold: a cluster of two processes.
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

CLUSTER_TIMEOUT = 180  # seconds; the run takes ~10 s

# Runs in a fresh interpreter: start a two-process cluster on the loopback
# interface, fit the pickled grid search under joblib's dask backend, then
# predict over dask Series (ragged arrays; texts through a pipeline) with
# map_partitions.  Prints one JSON line.
CLUSTER_SCRIPT = textwrap.dedent(
    """
    import json, logging, sys, warnings

    import joblib
    import pandas as pd
    from distributed import Client, LocalCluster, get_task_stream

    warnings.simplefilter("ignore")  # ConvergenceWarning from max_iter=2
    folder = sys.argv[1]
    search, X, y, X_new = joblib.load(f"{folder}/search.joblib")
    text_model, texts = joblib.load(f"{folder}/text.joblib")

    def predict_partition(part, model):
        return pd.Series(model.predict(part), index=part.index, dtype=object)

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        local_directory=folder,
        silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:
        with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            search.fit(X, y)
        result = {
            "addresses": [cluster.scheduler_address, *client.scheduler_info()["workers"]],
            "workers_used": len({task["worker"] for task in stream.data}),
            "best_params": search.best_params_,
            "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
        }
        try:
            import dask
            import dask.dataframe as dd
        except ImportError:  # dask[dataframe] (pyarrow) not installed
            pass
        else:
            meta = pd.Series(dtype=object)
            # By default dask turns object columns into pyarrow strings, which
            # would stringify the arrays: keep them as objects.
            with dask.config.set({"dataframe.convert-string": False}):
                seqs = dd.from_pandas(pd.Series(X_new, dtype=object), npartitions=3)
            result["sequence_predictions"] = seqs.map_partitions(
                predict_partition, search.best_estimator_, meta=meta
            ).compute().tolist()
            # Texts keep dask's default conversion (string[pyarrow] partitions).
            frame = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=3)
            result["text_predictions"] = frame["text"].map_partitions(
                predict_partition, text_model, meta=meta
            ).compute().tolist()
    print(json.dumps(result))
    """
)


def _sequences(n, seed):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(rng.randint(1, 7), 2)) for _ in range(n)]


def _labels(X):
    return np.array(["pos" if x[0, 0] > 0 else "neg" for x in X])


@pytest.fixture(scope="module")
def problem():
    X = _sequences(60, seed=0)
    search = GridSearchCV(
        RNNClassifier(max_iter=2, random_state=0),
        {"cell": ["rnn", "gru"], "hidden_layer_sizes": [(2,), (4,)]},
        cv=2,
    )
    reviews = make_movie_reviews(60, random_state=0)
    text_model = make_pipeline(
        TextOneHotEncoder(),
        RNNClassifier("gru", (3,), embedding_dim=2, max_iter=2, random_state=0),
    ).fit(reviews["text"], reviews["label"])
    texts = list(make_movie_reviews(20, random_state=1)["text"]) + [
        "",
        "unseen words only",
    ]
    return search, X, _labels(X), _sequences(25, seed=1), text_model, texts


@pytest.fixture(scope="module")
def cluster_result(problem, tmp_path_factory):
    search, X, y, X_new, text_model, texts = problem
    folder = tmp_path_factory.mktemp("dask")
    joblib.dump((search, X, y, X_new), folder / "search.joblib")
    joblib.dump((text_model, texts), folder / "text.joblib")
    # A session of its own, so a timeout can kill the scheduler and the
    # worker processes with it (they are its process group).
    proc = subprocess.Popen(
        [sys.executable, "-c", CLUSTER_SCRIPT, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder,
        env=os.environ.copy(),
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=CLUSTER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the dask subprocess did not finish within {CLUSTER_TIMEOUT} s")
    assert proc.returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def in_process(problem):
    search, X, y, *_ = problem
    return clone(search).fit(X, y)  # joblib's default backend, no dask


def test_grid_search_on_a_dask_cluster_matches_in_process(in_process, cluster_result):
    addresses = cluster_result["addresses"]
    assert len(addresses) == 3  # the scheduler and two worker processes
    assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
    assert cluster_result["workers_used"] >= 1  # the fits ran on the cluster
    best = dict(in_process.best_params_)
    best["hidden_layer_sizes"] = list(best["hidden_layer_sizes"])  # JSON has no tuples
    assert cluster_result["best_params"] == best
    # Not just the winner: every candidate scored the same, bit for bit.
    expected_scores = in_process.cv_results_["mean_test_score"].tolist()
    assert cluster_result["mean_test_score"] == expected_scores


def test_predict_over_dask_series_matches_in_memory(
    problem, in_process, cluster_result
):
    pytest.importorskip("dask.dataframe")
    *_, X_new, text_model, texts = problem
    expected = in_process.best_estimator_.predict(X_new).tolist()
    assert cluster_result["sequence_predictions"] == expected
    assert cluster_result["text_predictions"] == text_model.predict(texts).tolist()

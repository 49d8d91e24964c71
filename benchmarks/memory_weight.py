"""How much should the optimization memory weigh against the prior? (offline)

Leave one prior task out: the ranker learns from the other prior tasks, four of
which (drawn at random, three draws per task) play the optimization memory, and
ranks the held-out task's evaluated candidates. Regret@k is the task's best
held-out accuracy minus the best among the ranker's first k candidates (k = 6 is
about what the default race starts with). Tasks sharing the held-out task's
dataset (its subsample) are left out of both. Only the prior's experiments are
used: no benchmark dataset, no test rows, no model but the ranker is fitted.

Variants: the memory rows weigh like prior rows; 4 or 16 times as much, flat; 1,
4 (the library's ``MEMORY_WEIGHT``) or 16 times by the similarity of their task.

Run: ``python -m benchmarks.memory_weight`` (about 2.5 minutes on one core;
results in ``benchmarks/results/memory_weight.json``).
"""

import numpy as np

from skdistill import _ranker
from skdistill._candidates import Candidate
from skdistill._ranker import Ranker, load_prior

from .common import RESULTS, write_json

COMMAND = "python -m benchmarks.memory_weight"
# name -> (weight of a memory row, weighted by task similarity)
VARIANTS = {"1x flat (as prior rows)": (1.0, False), "4x flat": (4.0, False),
            "1x by similarity": (1.0, True),
            "4x by similarity (the library's)": (4.0, True),
            "16x by similarity": (16.0, True)}
MEMORY_TASKS = 4
DRAWS = 3
TOP = (1, 6)


def regrets(by_task, held, memory_tasks, weight, similar):
    """Regret@k of the ranker on ``held`` for each k of :data:`TOP`."""
    others = [t for t in by_task if t.split("@")[0] != held.split("@")[0]]
    prior = [e for t in others if t not in memory_tasks for e in by_task[t]]
    memory = [e for t in memory_tasks for e in by_task[t]]
    group = by_task[held]
    meta = group[0]["dataset"]
    accuracy = np.array([e["val_accuracy"] for e in group])
    original = _ranker.MEMORY_WEIGHT
    _ranker.MEMORY_WEIGHT = weight
    try:
        ranker = Ranker(prior, memory, meta if similar else None)
    finally:
        _ranker.MEMORY_WEIGHT = original
    scores = ranker.predict(meta, [Candidate.from_dict(e["config"]) for e in group])
    order = np.argsort(-scores, kind="stable")
    return {k: float(accuracy.max() - accuracy[order[:k]].max()) for k in TOP}


def run():
    """Mean regrets per variant over held-out tasks and memory draws."""
    by_task = {}
    for experiment in load_prior():
        by_task.setdefault(experiment["extra"]["task"], []).append(experiment)
    rng = np.random.RandomState(0)
    found = {name: {k: [] for k in TOP} for name in VARIANTS}
    for held in sorted(by_task):
        others = [t for t in sorted(by_task)
                  if t.split("@")[0] != held.split("@")[0]]
        for _ in range(DRAWS):
            memory_tasks = set(rng.choice(others, MEMORY_TASKS, replace=False))
            for name, (weight, similar) in VARIANTS.items():
                for k, value in regrets(by_task, held, memory_tasks, weight,
                                        similar).items():
                    found[name][k].append(value)
    return {"command": COMMAND, "tasks": len(by_task), "draws": DRAWS,
            "regret": {name: {f"@{k}": {"mean": float(np.mean(v)),
                                        "std": float(np.std(v))}
                              for k, v in values.items()}
                       for name, values in found.items()}}


def main():
    """Run and write the results."""
    result = run()
    write_json(RESULTS / "memory_weight.json", result, indent=1)
    for name, values in result["regret"].items():
        print(f"{name:34s} " + "  ".join(
            f"regret{k} {100 * v['mean']:.2f} ± {100 * v['std']:.2f} pts"
            for k, v in values.items()))


if __name__ == "__main__":
    main()

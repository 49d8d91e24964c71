"""The plots of a run (matplotlib is imported only here, and only when there)."""

from ..common import log
from .config import CURVE_METHODS


def plot(results, out, prefix):
    """Write the PNGs of a run.

    Parameters
    ----------
    results : dict
        The results document.
    out : pathlib.Path
        The folder.
    prefix : str
        Of the file names, e.g. ``suite_quick``.

    Returns
    -------
    list of str
        The file names written (none without matplotlib).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plots")
        return []
    written = []
    for name, draw, data in (("curve", _plot_curve, results["curve"]),
                             ("ablations", _plot_ablations, results["table"]),
                             ("scale", _plot_scale, results["scale"])):
        if not data:
            continue
        figure = draw(plt, data)
        path = out / f"{prefix}_{name}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path.name)
    return written


def _panels(plt, entries, width, height):
    """A figure of one panel per dataset of ``entries``, side by side."""
    datasets = list(dict.fromkeys(e["dataset"] for e in entries))
    figure, axes = plt.subplots(1, len(datasets), squeeze=False,
                                figsize=(width * len(datasets), height),
                                layout="constrained")
    return figure, axes[0], datasets


def _plot_curve(plt, curve):
    figure, axes, datasets = _panels(plt, curve, 4.6, 3.8)
    for ax, dataset in zip(axes, datasets, strict=True):
        mine = [c for c in curve if c["dataset"] == dataset]
        for method, marker in zip(CURVE_METHODS, "osD^", strict=True):
            points = [c for c in mine if c["method"] == method and c["accuracy"]
                      and c["compression_parameters"]]
            ax.errorbar([c["compression_parameters"]["mean"] for c in points],
                        [100 * c["accuracy"]["mean"] for c in points],
                        yerr=[100 * c["accuracy"]["std"] for c in points],
                        marker=marker, capsize=3, label=method)
        ax.axhline(100 * mine[0]["teacher_accuracy"], color="black",
                   linestyle="--", linewidth=1, label="teachers (fused)")
        ax.set_xscale("log")
        ax.set_xlabel("compression in parameters (log)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(dataset)
    axes[0].legend(fontsize="small")
    return figure


# The rows of the ablations' plot, by kind: baselines grey, ablations blue,
# prefit teachers orange, levers green.
_KIND_COLORS = {"baseline": "tab:gray", "ablation": "tab:blue",
                "prefit": "tab:orange", "lever": "tab:green"}


def _plot_ablations(plt, table):
    figure, axes, datasets = _panels(plt, table, 5.2, 4.2)
    for ax, dataset in zip(axes, datasets, strict=True):
        entries = [e for e in table if e["dataset"] == dataset
                   and e["kind"] in _KIND_COLORS and e["delta_accuracy"]]
        names = [e["row"] for e in entries]
        deltas = [100 * e["delta_accuracy"]["mean"] for e in entries]
        errors = [100 * e["delta_accuracy"]["std"] for e in entries]
        colors = [_KIND_COLORS[e["kind"]] for e in entries]
        ax.barh(names, deltas, xerr=errors, color=colors, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_xlabel("Δ accuracy vs HPMDistiller() (pts)")
        ax.set_title(dataset)
        ax.tick_params(axis="y", labelsize="small")
    return figure


def _plot_scale(plt, scale):
    ok = [p for p in scale if p["status"] == "ok"]
    figure, ax = plt.subplots(figsize=(5, 3.8), layout="constrained")
    ax.plot([p["n_train"] for p in ok], [p["fit_s"] for p in ok], marker="o")
    for p in ok:
        ax.annotate(f"{p['peak_rss_mb']:.0f} MB", (p["n_train"], p["fit_s"]),
                    textcoords="offset points", xytext=(4, -12), fontsize="small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training rows (log)")
    ax.set_ylabel("HPMDistiller() fit wall time, s (log)")
    ax.set_title(f"{scale[0]['dataset']}: fit time and peak memory")
    return figure



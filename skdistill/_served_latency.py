"""Latency of a student as it serves: its ONNX graph run by onnxruntime.

With ``latency_measure="onnx"`` the latency that ``max_latency_ms`` bounds (in
the search, the report and the serving-budget warning) is that of the student's
graph, preprocessing included (:func:`skdistill.export.to_onnx`), run by
onnxruntime on one thread, its inputs (:func:`~skdistill.export.onnx_inputs`)
made before the clock starts: what a server pays per call, not Python's
``predict_proba``. onnx and onnxruntime are imported only then.
"""

from sklearn.pipeline import Pipeline

from ._onnx._graph import _INSTALL_HINT
from ._onnx._students import _REGRESSION_CONVERTERS, _STUDENT_CONVERTERS
from .metrics import predict_latency


def check_latency_measure(latency_measure, student):
    """Before any work: onnx and onnxruntime installed, a student they export.

    Raises
    ------
    ImportError
        Without onnx or onnxruntime, naming the extra.
    ValueError
        For a student instance of a class ``to_onnx`` cannot export.
    """
    if latency_measure != "onnx":
        return
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        raise ImportError(
            'latency_measure="onnx" needs the onnx and onnxruntime packages: '
            f"{_INSTALL_HINT}") from error
    exported = (*_STUDENT_CONVERTERS, *_REGRESSION_CONVERTERS)
    if not isinstance(student, str) and type(student) not in exported:
        raise ValueError(
            f'latency_measure="onnx" times the student exported to ONNX, but '
            f"to_onnx cannot export a {type(student).__name__}; use "
            'latency_measure="python".')


def served_seconds(pipeline, X):
    """Seconds of onnxruntime running the fitted ``pipeline``'s graph on ``X``.

    ``pipeline``: the preprocessing and the student, as ``student_``. One
    session on one thread; the inputs are made from ``X`` before timing (best
    of three).
    """
    import onnxruntime as ort

    from .export import onnx_inputs, to_onnx

    graph = to_onnx(pipeline, X)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(graph.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    feeds = onnx_inputs(graph, X)
    return predict_latency(lambda _: session.run(None, feeds), X)


def served_latency_ms(preprocessor, rows, model):
    """Milliseconds of ``model`` served behind ``preprocessor`` on ``rows``
    (the search's :data:`~skdistill._halving.LATENCY_ROWS` rows)."""
    pipeline = Pipeline([("preprocess", preprocessor), ("student", model)])
    return 1000.0 * served_seconds(pipeline, rows)

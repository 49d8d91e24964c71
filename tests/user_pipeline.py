"""A user's own Pipeline around a student, exported by skl2onnx itself."""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def table(n_rows, seed=0):
    """Two numeric columns and a string one."""
    rng = np.random.RandomState(seed)
    return pd.DataFrame({"a": rng.randn(n_rows), "b": rng.randn(n_rows),
                         "color": rng.choice(["red", "green", "blue"], n_rows)})


def exported_pipeline(student, frame, y, options=None):
    """``StandardScaler`` and ``OneHotEncoder`` in front of ``student``, fitted
    on ``frame``, and an onnxruntime session of what ``skl2onnx.to_onnx`` makes
    of it (one input per column)."""
    import onnxruntime as ort
    import skl2onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    from skdistill.export import register_skl2onnx_converters

    pipeline = make_pipeline(
        ColumnTransformer([("numeric", StandardScaler(), ["a", "b"]),
                           ("color", OneHotEncoder(sparse_output=False), ["color"])]),
        student).fit(frame, y)
    register_skl2onnx_converters()
    model = skl2onnx.to_onnx(
        pipeline, initial_types=[("a", FloatTensorType([None, 1])),
                                 ("b", FloatTensorType([None, 1])),
                                 ("color", StringTensorType([None, 1]))],
        target_opset={"": 20, "ai.onnx.ml": 3}, options=options)
    return pipeline, ort.InferenceSession(model.SerializeToString())


def feeds(rows):
    """The session's inputs for the rows of a :func:`table`."""
    return {"a": rows[["a"]].to_numpy(np.float32),
            "b": rows[["b"]].to_numpy(np.float32),
            "color": rows[["color"]].to_numpy(object)}

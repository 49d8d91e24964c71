"""The exported student served by onnxruntime behind ``predict``/``predict_proba``."""

import ctypes
import json

import numpy as np

from ._graph import _INPUT, _INSTALL_HINT
from ._table import feeds, frame_values, layout_of


class OnnxServingModel:
    """A student's ONNX graph run by onnxruntime, with a scikit-learn face.

    Made by :func:`skdistill.export.serving_model`. It predicts what the
    student predicts (to the agreement of :func:`~skdistill.export.to_onnx`)
    without the Python overhead of the student's pipeline, which dominates one
    row at a time. It pickles as the model's bytes; the session is rebuilt on
    loading.

    Parameters
    ----------
    model : onnx.ModelProto
        What :func:`~skdistill.export.to_onnx` returned.
    n_threads : int, default=1
        onnxruntime's intra-op threads: one suits serving one row per call;
        more may help large batches.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of the probability columns (absent for a
        regression student, whose graph gives ``predict`` itself).
    feature_names_in_ : ndarray of str or None
        The input columns, in the graph's order, when the student saw names.
    n_features_in_ : int
        Width of the input.
    """

    def __init__(self, model, n_threads=1):
        self.model_bytes = model.SerializeToString()
        self.n_threads = n_threads
        props = {prop.key: prop.value for prop in model.metadata_props}
        if "classes" in props:
            self.classes_ = np.asarray(json.loads(props["classes"]))
        columns = props.get("input_columns")
        self.feature_names_in_ = (None if columns is None
                                  else np.asarray(json.loads(columns), dtype=object))
        from onnx import TensorProto

        tensor_type = model.graph.input[0].type.tensor_type
        self.n_features_in_ = int(tensor_type.shape.dim[1].dim_value)
        self._dtype = (np.float32 if tensor_type.elem_type == TensorProto.FLOAT
                       else np.float64)
        self._layout = layout_of(model)
        if self._layout is not None:
            self.feature_names_in_ = np.asarray(self._layout.columns, dtype=object)
            self.n_features_in_ = len(self._layout.columns)
        self._session = _session(self.model_bytes, n_threads)

    def predict_proba(self, X):
        """Class probabilities of the rows of ``X``, from the ONNX graph.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric rows, or a DataFrame (its columns taken by name; a DataFrame
            is required when the student saw categorical columns).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if not hasattr(self, "classes_"):
            raise AttributeError("a regression student's model has no "
                                 "predict_proba; use predict.")
        return self._run(X)

    def run(self, inputs):
        """The graph's output on inputs already made by
        :func:`~skdistill.export.onnx_inputs`: what ``predict_proba`` returns
        (``predict`` for a regression student), without converting rows.

        Parameters
        ----------
        inputs : dict of str to ndarray
            The graph's inputs by name.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        return self._evaluate(inputs)

    def _evaluate(self, inputs):
        return self._session.run(None, inputs)[0]

    def _run(self, X):
        """The graph's one output on the rows of ``X``."""
        return self._evaluate(self._inputs(X))

    def _inputs(self, X):
        """The graph's inputs, made from the rows of ``X``."""
        if self._layout is not None:
            if not hasattr(X, "columns"):
                raise TypeError("this model has categorical columns: give X as a "
                                "DataFrame with the columns by name.")
            return feeds(self._layout, X, self._dtype)
        return {_INPUT: self._rows(X)}

    def predict(self, X):
        """Labels of the rows of ``X`` (the most probable class), or a
        regression student's predictions.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric rows; a DataFrame's columns are taken by name.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        if not hasattr(self, "classes_"):
            return self._run(X)[:, 0]
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _rows(self, X):
        if hasattr(X, "columns") and self.feature_names_in_ is not None:
            rows = frame_values(X, list(self.feature_names_in_), self._dtype)
        else:
            rows = np.asarray(X, dtype=self._dtype)
        if rows.ndim != 2 or rows.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has shape {rows.shape}; the model takes rows of "
                f"{self.n_features_in_} features.")
        return rows

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_session"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._session = _session(self.model_bytes, self.n_threads)


class _CutServingModel(OnnxServingModel):
    """A serving model whose graph is cut in parts, part of them compiled:
    ``_build`` makes them from the model's bytes (again on loading), the
    attributes named in ``_TRANSIENT`` are not pickled, and ``_before`` (an
    onnxruntime session, or None) makes the rows the compiled part reads."""

    _TRANSIENT = ()

    def _before_rows(self, inputs, name):
        """The rows the compiled part reads: ``_before``'s output, or the
        graph input ``name`` where there is no ``_before``."""
        if self._before is None:
            return inputs[name]
        return self._before.run(None, inputs)[0]

    def __getstate__(self):
        state = super().__getstate__()
        for name in self._TRANSIENT:
            del state[name]
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._build()


def _address(array):
    """The address of a C-contiguous array's first element, for compiled code.

    ctypes' view of a writable buffer takes about 1 µs here, numpy's
    ``array.ctypes.data`` about 3 µs: a third of a compiled one-row call.
    numpy's serves the read-only and empty arrays ctypes refuses.
    """
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(array))
    except (TypeError, ValueError, BufferError):
        return array.ctypes.data


def _session(model_bytes, n_threads):
    try:
        import onnxruntime as ort
    except ImportError as error:
        raise ImportError(
            f"serving an ONNX model needs the onnxruntime package: {_INSTALL_HINT}"
        ) from error
    options = ort.SessionOptions()
    options.intra_op_num_threads = n_threads
    options.inter_op_num_threads = 1
    # Without the arena a one-row call took 1-3 µs less on every suite
    # dataset (benchmarks/README.md, "The graph in fewer nodes"); 10,000
    # rows took as long.
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(model_bytes, options,
                                providers=["CPUExecutionProvider"])

"""The ONNX graph behind :func:`skdistill.export.to_onnx`, built piece by piece.

- :mod:`._graph`: the graph under construction (nodes, constants, opsets);
- :mod:`._preprocessing`: the student's preprocessing steps as nodes;
- :mod:`._students`: each student family's ``predict_proba`` as nodes;
- :mod:`._trees`: fitted scikit-learn, LightGBM and XGBoost trees as one
  ``ai.onnx.ml`` ``TreeEnsemble`` node.
"""

"""Configuration of the student (HPM-KD component i).

For now: the size of the ``"auto"`` MLP student, chosen from the teachers' measured
size so that the student is at least ``min_compression`` times smaller.
"""

import numpy as np

from .students import MLPStudent

# Widest first: the auto student takes the largest that fits the byte budget.
MLP_SIZE_LADDER = ((128, 64), (64, 32), (32, 16), (16,), (8,), (4,))
# Pickled fitted MLPStudent minus its float32 weights: torch state dict, sklearn
# wrapper and training curves. Measured with ``len(pickle.dumps(student))`` on
# students fitted inside HPMDistiller: 7.4 kB to 9.1 kB.
_MLP_PICKLE_OVERHEAD_BYTES = 10_000


def mlp_parameters(n_inputs, hidden_layer_sizes, n_outputs):
    """Weights and biases of a fully connected network."""
    widths = (n_inputs, *hidden_layer_sizes, n_outputs)
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


def auto_mlp_student(n_inputs, n_outputs, max_bytes=None, max_parameters=None):
    """The MLP student for ``student="auto"``.

    Parameters
    ----------
    n_inputs : int
        Width of the preprocessed input.
    n_outputs : int
        Number of classes.
    max_bytes : float or None, default=None
        Budget for the student's serialized size.
    max_parameters : float or None, default=None
        Budget for the student's weights and biases.

    Returns
    -------
    MLPStudent
        Unfitted, with the widest hidden layers of :data:`MLP_SIZE_LADDER` whose
        estimated size fits both budgets (the narrowest when none does); the
        default MLPStudent when there is no budget.
    """
    if max_bytes is None and max_parameters is None:
        return MLPStudent()
    max_bytes = np.inf if max_bytes is None else max_bytes
    max_parameters = np.inf if max_parameters is None else max_parameters
    for sizes in MLP_SIZE_LADDER:
        n_parameters = mlp_parameters(n_inputs, sizes, n_outputs)
        n_bytes = 4 * n_parameters + _MLP_PICKLE_OVERHEAD_BYTES
        if n_parameters <= max_parameters and n_bytes <= max_bytes:
            return MLPStudent(hidden_layer_sizes=sizes)
    return MLPStudent(hidden_layer_sizes=MLP_SIZE_LADDER[-1])

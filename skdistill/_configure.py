"""Configuration of the student (HPM-KD component i).

For now: the size of the ``"auto"`` MLP student, chosen from the teachers' measured
size so that the student is at least ``min_compression`` times smaller.
"""

from .students import MLPStudent

# Widest first: the auto student takes the largest that fits the byte budget.
MLP_SIZE_LADDER = ((128, 64), (64, 32), (32, 16), (16,), (8,), (4,))
# Pickled MLPStudent minus its float32 weights (torch state dict and sklearn
# wrapper): 4.0 kB with one hidden layer, 4.8 kB with two, measured with
# ``len(pickle.dumps(student))`` on fitted students.
_MLP_PICKLE_OVERHEAD_BYTES = 5_000


def mlp_parameters(n_inputs, hidden_layer_sizes, n_outputs):
    """Weights and biases of a fully connected network."""
    widths = (n_inputs, *hidden_layer_sizes, n_outputs)
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


def auto_mlp_student(n_inputs, max_bytes, n_outputs=2):
    """The MLP student for ``student="auto"``.

    Parameters
    ----------
    n_inputs : int
        Width of the preprocessed input.
    max_bytes : float or None
        Budget for the student's serialized size; ``None`` for the default size.
    n_outputs : int, default=2
        Number of classes.

    Returns
    -------
    MLPStudent
        Unfitted, with the widest hidden layers of :data:`MLP_SIZE_LADDER` whose
        estimated size fits ``max_bytes`` (the narrowest when none does).
    """
    if max_bytes is None:
        return MLPStudent()
    for sizes in MLP_SIZE_LADDER:
        estimate = (4 * mlp_parameters(n_inputs, sizes, n_outputs)
                    + _MLP_PICKLE_OVERHEAD_BYTES)
        if estimate <= max_bytes:
            return MLPStudent(hidden_layer_sizes=sizes)
    return MLPStudent(hidden_layer_sizes=MLP_SIZE_LADDER[-1])

"""``teachers__<name>[__<param>]``: the teachers' parameters through the distiller's.

The way ``StackingClassifier`` exposes its ``estimators``: a list of teachers
shows each as ``teachers__<name>`` and its parameters as
``teachers__<name>__<param>``, in ``get_params`` and ``set_params``.
"""

from . import _checks, _teachers


class TeacherParams:
    """Mixin: the named teachers' parameters in ``get_params``/``set_params``."""

    def get_params(self, deep=True):
        """Parameters of the distiller; with ``deep``, of its teachers and student.

        A list of teachers exposes each as ``teachers__<name>`` and its
        parameters as ``teachers__<name>__<param>`` (names as in
        ``teacher_names_``: given, or made from the class names).
        """
        params = super().get_params(deep=deep)
        if deep and isinstance(self.teachers, (list, tuple)):
            for name, teacher in _teachers.teacher_pairs(self.teachers):
                params[f"teachers__{name}"] = teacher
                if hasattr(teacher, "get_params"):
                    params.update({f"teachers__{name}__{key}": value for key, value
                                   in teacher.get_params(deep=True).items()})
        return params

    def set_params(self, **params):
        """Set parameters, ``teachers__<name>[__<param>]`` included.

        Returns
        -------
        self : object
        """
        _checks.check_nested_student_params(params.get("student", self.student),
                                            params)
        if isinstance(params.get("teachers", self.teachers), (list, tuple)):
            if "teachers" in params:
                super().set_params(teachers=params.pop("teachers"))
            nested = {key: params.pop(key) for key in list(params)
                      if key.startswith("teachers__")}
            for key, value in nested.items():
                self._set_teacher_param(key.split("__", 2)[1:], value)
        return super().set_params(**params)

    def _set_teacher_param(self, path, value):
        pairs = _teachers.teacher_pairs(self.teachers)
        names = [name for name, _ in pairs]
        if path[0] not in names:
            raise ValueError(f"No teacher named {path[0]!r}; the teachers are "
                             f"{names}.")
        index = names.index(path[0])
        if len(path) == 2:
            pairs[index][1].set_params(**{path[1]: value})
            return
        teachers = list(self.teachers)
        teachers[index] = ((path[0], value) if _teachers.is_pair(teachers[index])
                           else value)
        self.teachers = type(self.teachers)(teachers)

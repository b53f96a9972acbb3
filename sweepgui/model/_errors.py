"""The model's own error (the parameters' errors are ``sweepgui.params.ParameterError``)."""


class ModelError(RuntimeError):
    """The model cannot compute this point (exit code 3); the message says why."""

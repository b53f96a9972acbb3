"""Work around a reference-count bug of PySide6 6.12: ``SignalInstance.emit`` returns ``True``
without a reference of its own, so every ``signal.emit(...)`` made from Python takes one
reference away from ``True``.  After a few thousand emits CPython (3.11, where ``True`` is not
immortal) aborts with "Fatal Python error: bool_dealloc: deallocating True or False".

:func:`install` wraps ``emit`` to give the missing reference back; it first measures whether
the installed PySide6 has the bug, so a fixed release is left alone.  Importing any of the
app's ui modules installs it (``sweepgui/ui/app.py``, the forms, ``tests/ui/conftest.py``).
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

_installed = False


class _Probe(QObject):
    ping = Signal()


def has_bug() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(10):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe itself took
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= 10


def install() -> bool:
    """Patch ``SignalInstance.emit`` if this PySide6 needs it; True if patched (idempotent)."""
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or not has_bug():  # 3.12+: True is immortal
        return False
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None

    def emit(self, *args):
        result = original(self, *args)
        if result is True or result is False:
            incref(result)
        return result

    emit.__wrapped__ = original
    emit.__doc__ = original.__doc__
    SignalInstance.emit = emit
    _installed = True
    return True


install()

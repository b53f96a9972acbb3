"""Small widget helpers shared by the forms and the machines editor."""

from __future__ import annotations

import threading
import weakref

from PySide6.QtCore import QCoreApplication, QMetaObject, QObject, Qt, Slot
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QSpinBox, QWidget
from shiboken6 import isValid as _alive  # whether the C++ object behind a wrapper still exists

# Red border for invalid input; the property selector lets one stylesheet serve every editor.
INVALID_STYLE = """
QLineEdit[invalid="true"], QComboBox[invalid="true"], QSpinBox[invalid="true"],
QDoubleSpinBox[invalid="true"] { border: 1px solid #d32f2f; border-radius: 2px; }
QLabel[role="error"] { color: #c62828; }
QLabel[role="hint"] { color: palette(mid); }
"""


# -- the mouse wheel ---------------------------------------------------------------------------
# A wheel turned over a form is meant for the scroll area: a combo or spin box under the
# pointer took it and silently changed a parameter (Water became Chlorine, 27 cached points
# became 27 to build). These boxes take the wheel only once the user clicked or tabbed into
# them; otherwise the event is left to the parent, which scrolls.

class _WheelWhenFocused:
    def _setup_wheel(self) -> None:
        # not Qt.WheelFocus: a wheel turned over the box must not give it the focus first
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class WheelSafeComboBox(_WheelWhenFocused, QComboBox):
    """A QComboBox that takes the mouse wheel only when it has the focus."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._setup_wheel()


class WheelSafeSpinBox(_WheelWhenFocused, QSpinBox):
    """A QSpinBox that takes the mouse wheel only when it has the focus."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._setup_wheel()


class WheelSafeDoubleSpinBox(_WheelWhenFocused, QDoubleSpinBox):
    """A QDoubleSpinBox that takes the mouse wheel only when it has the focus."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._setup_wheel()


# -- results of plain threads --------------------------------------------------------------------

class _Delivery(QObject):
    """One call carried to the GUI thread (created by the worker, moved to the GUI thread)."""

    _pending: set = set()  # kept alive until delivered
    _lock = threading.Lock()

    def __init__(self, target: weakref.ref, method: str, args: tuple):
        super().__init__()  # no parent: it is moved to the GUI thread
        self._target, self._method, self._args = target, method, args

    @Slot()
    def deliver(self) -> None:
        with _Delivery._lock:
            _Delivery._pending.discard(self)
        obj = self._target()
        # on the GUI thread: the receiver is either alive here, or gone (and then skipped)
        if obj is not None and _alive(obj):
            getattr(obj, self._method)(*self._args)


def deliver_to(target: weakref.ref, method: str, *args) -> None:
    """Call ``target().method(*args)`` on the GUI thread, if the object still exists by then.

    For plain (non-Qt) threads handing results to a widget that may be deleted meanwhile
    (the window closed). ``target`` is a weak reference taken on the GUI thread
    (``weakref.ref(self)`` before the thread starts): the worker neither holds the widget,
    nor emits its signals, nor reads its attributes. A small carrier object is posted to the
    GUI thread instead (superqt's ``ensure_main_thread`` pattern), and the receiver's
    liveness is checked there, where nothing can delete it under us.
    """
    app = QCoreApplication.instance()
    if app is None:
        return
    ref = target
    carrier = _Delivery(ref, method, args)
    with _Delivery._lock:
        _Delivery._pending.add(carrier)
    carrier.moveToThread(app.thread())
    QMetaObject.invokeMethod(carrier, "deliver", Qt.ConnectionType.QueuedConnection)



def set_invalid(widget: QWidget, invalid: bool) -> None:
    """Mark an editor invalid (red border through INVALID_STYLE)."""
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def error_label(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def show_error(label: QLabel, message: str | None) -> None:
    label.setText(message or "")
    label.setVisible(bool(message))

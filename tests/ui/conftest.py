"""Fixtures for every Qt test.

* ``_no_leaked_threads_or_timers`` (autouse): fails a test that leaves a ``QThread`` running or
  a ``QTimer`` active.  Every QThread/QTimer constructed during the test (also subclasses and
  objects made inside the app's own code) is recorded by wrapping ``__init__`` (weak references only: a
  parentless timer whose last reference is dropped is deleted and stopped, which is fine); after the test
  the fixture gives threads a short grace period to finish, then fails the test naming what is
  still alive, and stops it so that later tests start clean.
* garbage is collected on the GUI thread between tests, never automatically (see
  ``sweepgui.ui.gc_guard``: a collection in a worker thread can deadlock against Qt).
* ``_temp_settings`` (autouse): QSettings go to a temporary folder, never to the user's config.
"""

from __future__ import annotations

import gc
import os
import time
import weakref

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QSettings, QThread, QTimer

try:  # shiboken tells whether the C++ object behind a wrapper still exists
    from shiboken6 import isValid as _is_valid
except ImportError:  # pragma: no cover
    def _is_valid(obj) -> bool:
        return True

# Default-constructed QSettings() use the INI format, so setPath below redirects them too.
QSettings.setDefaultFormat(QSettings.Format.IniFormat)

_created: list[weakref.ref] = []


def _record(cls):
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        _created.append(weakref.ref(self))

    __init__.__wrapped__ = original
    cls.__init__ = __init__


_record(QThread)
_record(QTimer)

# Threads get this long to finish after the test before they count as leaked.
THREAD_GRACE_S = 3.0
TIMER_GRACE_S = 0.3


def _alive(obj) -> bool:
    if obj is None or not _is_valid(obj):
        return False
    try:
        if isinstance(obj, QThread):
            return obj.isRunning()
        return obj.isActive()
    except RuntimeError:  # deleted underneath us
        return False


def _describe(obj) -> str:
    name = obj.objectName() if _is_valid(obj) else ""
    parent = None
    try:
        parent = obj.parent()
    except RuntimeError:
        pass
    owner = f" (parent {type(parent).__name__})" if parent is not None else ""
    return f"{type(obj).__name__}{' ' + repr(name) if name else ''}{owner}"


@pytest.fixture(autouse=True, scope="session")
def _garbage_collected_on_the_gui_thread():
    """As the app does (sweepgui.ui.gc_guard): no automatic collection, which could free a
    Qt object from an earlier test in a worker thread and deadlock; collect between tests."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _no_leaked_threads_or_timers(request):
    _created.clear()
    yield
    app = QCoreApplication.instance()
    deadline = time.monotonic() + THREAD_GRACE_S
    timer_deadline = time.monotonic() + TIMER_GRACE_S
    while True:
        if app is not None:
            app.processEvents()
        objs = [r() for r in _created]  # again: events may have started new ones
        threads = [o for o in objs if isinstance(o, QThread) and _alive(o)]
        timers = [o for o in objs if isinstance(o, QTimer) and _alive(o)]
        now = time.monotonic()
        if not threads and (not timers or now > timer_deadline):
            break
        if now > deadline:
            break
        time.sleep(0.01)
    leaked = [_describe(o) for o in threads + timers]
    # stop what leaked so that the next test starts clean
    for t in timers:
        t.stop()
    for th in threads:
        th.quit()
        if not th.wait(2000):
            th.terminate()
            th.wait(1000)
    _created.clear()
    if leaked:
        pytest.fail("left running after the test: " + ", ".join(leaked), pytrace=False)


@pytest.fixture(autouse=True)
def _temp_settings(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
        QSettings.setPath(fmt, QSettings.Scope.SystemScope, str(folder / "system"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(folder / "xdg-data"))
    yield folder

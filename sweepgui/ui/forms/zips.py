"""The sweep's dimensions, and zipping swept parameters so that they move together.

Each swept parameter is a dimension of the Cartesian product; a zip group (``[zip]`` in the
file) pairs the values of its members instead, forming one dimension. Select two or more
dimensions and press "Zip" to pair them; "Unzip" splits a group again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from sweepgui.ui.forms.sweep_model import SweepModel


def zip_name(paths: list[str], taken: set[str]) -> str:
    """A readable, unused group name from the members' field names (e.g. pressure_temperature)."""
    base = "_".join(p.rsplit(".", 1)[-1] for p in paths)[:60] or "zip"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


class DimensionsBox(QGroupBox):
    """Lists the dimensions of the sweep (hidden while nothing is swept)."""

    def __init__(self, model: SweepModel, parent=None):
        super().__init__("Sweep dimensions", parent)
        self.setObjectName("group:dimensions")
        self._model = model
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setToolTip("Each line is one dimension of the sweep; the points are their "
                             "product. Zipped parameters move together (their counts must match).")
        self.zip_button = QPushButton("Zip")
        self.zip_button.setToolTip("Pair the selected dimensions: their i-th values go together")
        self.unzip_button = QPushButton("Unzip")
        self.unzip_button.setToolTip("Split the selected zip groups into separate dimensions")
        self.zip_button.clicked.connect(self.zip_selected)
        self.unzip_button.clicked.connect(self.unzip_selected)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        buttons = QVBoxLayout()
        buttons.addWidget(self.zip_button)
        buttons.addWidget(self.unzip_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        model.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        draft = self._model.draft
        selected = {i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()}
        self.list.clear()
        for name, count in draft.dimension_counts():
            members = draft.zips.get(name)
            label = f"{name}: {' + '.join(members)}" if members else name
            n = "? values (counts differ)" if count is None else f"{count} value{'s' if count != 1 else ''}"
            item = QListWidgetItem(f"{label} — {n}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
            item.setSelected(name in selected)
        rows = self.list.count()
        self.setVisible(rows > 0)
        self.list.setFixedHeight(min(max(rows, 2), 6) * (self.list.sizeHintForRow(0) or 20) + 6)
        self._update_buttons()

    def _selected(self) -> list[str]:
        return [i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()]

    def _update_buttons(self) -> None:
        names = self._selected()
        zips = self._model.draft.zips
        self.zip_button.setEnabled(len(names) >= 2)
        self.unzip_button.setEnabled(any(n in zips for n in names))

    def zip_selected(self) -> None:
        draft = self._model.draft
        names = self._selected()
        if len(names) < 2:
            return
        zips = {k: list(v) for k, v in draft.zips.items()}
        paths: list[str] = []
        for name in names:
            paths += zips.pop(name, [name])
        # keep the file order of the variables inside the group
        order = list(draft.variables)
        paths.sort(key=lambda p: order.index(p) if p in order else len(order))
        zips[zip_name(paths, set(zips))] = paths
        self._model.set_zips(zips)

    def unzip_selected(self) -> None:
        zips = {k: v for k, v in self._model.draft.zips.items() if k not in self._selected()}
        self._model.set_zips(zips)

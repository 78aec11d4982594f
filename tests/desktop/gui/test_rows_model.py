"""The one list model: role functions, keys, paging through the operations worker."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.gui.rows_model import ROW_ROLE, PagedRowsModel, RowsModel


def test_roles_keys_and_updates(qtbot):
    model = RowsModel(
        {
            Qt.ItemDataRole.DisplayRole: lambda r: f"#{r[0]}",
            Qt.ItemDataRole.UserRole: lambda r: r[1],
        },
        key=lambda r: r[0],
    )
    model.set_rows([("a", 1), ("b", 2)])
    assert model.rowCount() == 2
    assert (
        model.index(1, 0).data() == "#b" and model.index(1, 0).data(Qt.ItemDataRole.UserRole) == 2
    )
    assert model.index(0, 0).data(ROW_ROLE) == ("a", 1)
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) is None  # no function: no data
    assert model.row_of("b") == 1 and model.row_of("zz") == -1
    with qtbot.waitSignal(model.rowsInserted):
        model.append_rows([("c", 3)])
    assert model.row_of("c") == 2
    with qtbot.waitSignal(model.dataChanged):
        model.replace_row(0, ("a", 10))
    assert model.index(0, 0).data(Qt.ItemDataRole.UserRole) == 10


def test_paged_model_fetches_pages_on_the_worker(qtbot):
    from desktop.gui.operations import Operations

    errors: list[BaseException] = []
    ops = Operations(errors.append)
    try:
        rows = [(str(i), i) for i in range(25)]
        model = PagedRowsModel(
            {Qt.ItemDataRole.DisplayRole: lambda r: r[0]}, key=lambda r: r[0], page=10
        )
        model.set_source(lambda offset, limit: rows[offset : offset + limit], ops)
        loaded: list[int] = []
        model.reload(lambda: loaded.append(model.rowCount()))
        qtbot.waitUntil(lambda: loaded == [10])
        assert model.canFetchMore()
        model.fetchMore()
        qtbot.waitUntil(lambda: model.rowCount() == 20)
        model.fetchMore()
        qtbot.waitUntil(lambda: model.rowCount() == 25)
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.canFetchMore())
        assert model.rowCount() == 25 and not errors
    finally:
        ops.shutdown()

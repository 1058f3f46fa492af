"""The dashboard's tables as Excel: each table of the page, with the same figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from jindu.core.excel import Column, Exporter
from jindu.dashboards.data import Dashboard, shown


class TableExporter(Exporter):
    """One table of the dashboard: a title, headers and rows given by the caller."""

    title: ClassVar[str] = "禁毒态势"

    def __init__(
        self, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], year: int
    ) -> None:
        self.table_title = title
        self.columns = tuple(Column(h, 18) for h in headers)  # type: ignore[misc]
        self._rows = list(rows)
        self.year = year

    def filename(self) -> str:
        return f"{self.table_title}-{self.year}年.xlsx"

    def render(self) -> tuple[bytes, int]:
        # The sheet carries the table's own title.
        self.title = self.table_title[:31]  # type: ignore[misc]
        return super().render()

    def rows(self) -> Iterable[Sequence[Any]]:
        return self._rows


def completion_table(board: Dashboard) -> TableExporter:
    rows = [
        (
            board.unit.name, p.name, p.unit, shown(p.target), shown(p.actual),
            shown(p.completion_shown) if p.completion is not None else "不适用",
            shown(board.elapsed()), str(p.label),
        )
        for p in board.completion_rows()
    ]  # fmt: skip
    headers = ("单位", "指标", "计量单位", "目标", "完成", "完成率（%）", "时间进度（%）", "进度")
    return TableExporter("目标任务完成情况", headers, rows, board.year)


def board_table(board: Dashboard) -> TableExporter:
    rows = [
        (board.unit.name, r.name, str(r.direction), shown(r.current), shown(r.previous), r.unit,
         str(r.verdict))
        for r in board.board_rows()
    ]  # fmt: skip
    headers = ("单位", "指标", "应当", "本年", "上年", "计量单位", "是否实现")
    return TableExporter("四升四降指标", headers, rows, board.year)


def units_table(board: Dashboard) -> TableExporter:
    inds = board.side_indicators()
    headers = ("单位", *(f"{i.name}（{i.unit}）" for i in inds))
    rows = [(r.unit.name, *(shown(v) for v in r.values)) for r in board.side_rows()]
    return TableExporter("下级单位主要指标", headers, rows, board.year)


def trend_table(board: Dashboard) -> TableExporter:
    trend = board.trend()
    headers = ("指标", "计量单位", *trend["months"])
    rows = [
        (s["name"], s["unit"], *("" if v is None else v for v in s["data"]))
        for s in trend["series"]
    ]
    return TableExporter("月度趋势", headers, rows, board.year)


def status_table(board: Dashboard) -> TableExporter:
    rows = [(board.unit.name, s.label, n) for s, n in board.people_by_status()]
    return TableExporter("吸毒人员状态分布", ("单位", "状态", "人数"), rows, board.year)


def alerts_table(board: Dashboard) -> TableExporter:
    rows = [(board.unit.name, str(a.label), a.text, str(a.unit)) for a in board.alerts()]
    return TableExporter("预警提示", ("单位", "事项", "数量", "计量单位"), rows, board.year)


TABLES = {
    "completion": completion_table,
    "board": board_table,
    "units": units_table,
    "trend": trend_table,
    "status": status_table,
    "alerts": alerts_table,
}

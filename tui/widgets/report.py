"""The training report: accuracy against the baseline, per-class metrics, confusion matrix, CV curve."""

from __future__ import annotations

from bertsent.core.data.classes import short_names
from bertsent.tui.safe_text import clean
from bertsent.tui.widgets.bars import bar
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

FITS = 6  # classes whose confusion matrix fits the report's 40 cells at 80x24; more widen it (it scrolls)


class ReportView(Widget):
    """Renders a ``core.models.report.Report``; shows a hint until one is set."""

    COMPONENT_CLASSES = {"report--model", "report--baseline", "report--title"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report = None

    def show(self, report) -> None:
        self.report = report
        classes = len(report.classes)
        self.styles.width = 6 + 6 * classes if classes > FITS else None
        self.refresh(layout=True)

    def render(self):
        report = self.report
        if report is None:
            return Text("train a model to see its report here", style="italic")
        title = self.get_component_rich_style("report--title")
        model = self.get_component_rich_style("report--model")
        baseline = self.get_component_rich_style("report--baseline")
        width = max(self.size.width - 18, 6)
        gain = (report.accuracy - report.baseline_accuracy) * 100
        accuracy = Text(end="")
        accuracy.append(f"Test accuracy {report.accuracy:.1%}", title)
        accuracy.append(f" ({gain:+.1f} pts)\n")
        for name, value, style in (
            ("model   ", report.accuracy, model),
            ("baseline", report.baseline_accuracy, baseline),
            ("train   ", report.train_accuracy, ""),
        ):
            accuracy.append(f"{name} ")
            accuracy.append(bar(value, width), style)
            accuracy.append(f" {value:6.1%}\n")
        # No padding: the column separators are spaces, and "very negative" must fit 80 columns.
        classes = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0), show_edge=False)
        for column in ("class", "prec", "recall", "F1", "n"):
            classes.add_column(column, justify="left" if column == "class" else "right", no_wrap=True)
        for name, metrics in report.per_class.items():
            classes.add_row(
                Text(clean(name), overflow="ellipsis"),
                f"{metrics.precision:.3f}",
                f"{metrics.recall:.3f}",
                f"{metrics.f1:.3f}",
                f"{metrics.support:,}",
            )
        classes.add_row("macro F1", "", "", f"{report.macro_f1:.3f}", "", style="italic")
        title = Text("confusion (rows true, cols predicted)", style="italic")  # as wide as the column
        return Group(accuracy, classes, Text(""), title, self._confusion(report), *self._method(report))

    def _confusion(self, report) -> Table:
        """Rows: true class, columns: predicted class, each named by a label cut to fit."""
        # Columns are a label (or count) and a space: six classes fit 40 cells with 4-cell labels.
        short = short_names([clean(name) for name in report.names], 5 if len(report.names) < FITS else 4)
        confusion = Table(
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            padding=(0, 0),
            show_edge=False,
        )
        confusion.add_column("", no_wrap=True)
        for name in short:
            confusion.add_column(Text(name), justify="right", no_wrap=True, min_width=3)
        for name, row in zip(short, report.confusion, strict=True):
            confusion.add_row(Text(name), *(f"{count:,}" for count in row))
        return confusion

    def _method(self, report) -> list:
        if report.cv is not None:
            return [Text(""), self._cv(report)]
        if report.method == "finetune":
            return [Text(f"\n{report.describe()}", style="italic")]
        return [Text(f"\nC = {report.C:g} (fixed)", style="italic")]

    def _cv(self, report) -> Text:
        """The heading of the CV chart drawn below (widgets.cv_chart)."""
        cv = report.cv
        text = Text(f"{cv.folds}-fold CV accuracy vs C (best C = {report.C:.2g}, ◆)\n", end="")
        text.append(f"accuracy {min(cv.scores):.1%} – {max(cv.scores):.1%}")
        return text

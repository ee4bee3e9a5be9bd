"""The training report: accuracy against the baseline, per-class metrics, confusion matrix, CV curve."""

from __future__ import annotations

from bertsent.tui.widgets.bars import bar
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widget import Widget


class ReportView(Widget):
    """Renders a ``core.report.Report``; shows a hint until one is set."""

    COMPONENT_CLASSES = {"report--model", "report--baseline", "report--title"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report = None

    def show(self, report) -> None:
        self.report = report
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
        classes = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
        for column in ("class", "prec", "recall", "F1", "n"):
            classes.add_column(column, justify="left" if column == "class" else "right")
        for name, metrics in report.per_class.items():
            classes.add_row(
                name, f"{metrics.precision:.3f}", f"{metrics.recall:.3f}", f"{metrics.f1:.3f}", f"{metrics.support:,}"
            )
        (tn, fp), (fn, tp) = report.confusion
        confusion = Table(
            title="confusion matrix",
            title_justify="left",
            title_style="italic",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            padding=(0, 1),
            show_edge=False,
        )
        confusion.add_column("")
        confusion.add_column("predicted neg", justify="right")
        confusion.add_column("predicted pos", justify="right")
        confusion.add_row("true neg", f"{tn:,}", f"{fp:,}")
        confusion.add_row("true pos", f"{fn:,}", f"{tp:,}")
        parts = [accuracy, classes, Text(""), confusion]
        if report.cv is not None:
            parts += [Text(""), self._cv(report)]
        elif report.method == "finetune":
            parts.append(Text(f"\n{report.describe()}", style="italic"))
        else:
            parts.append(Text(f"\nC = {report.C:g} (fixed)", style="italic"))
        return Group(*parts)

    def _cv(self, report) -> Text:
        """The heading of the CV chart drawn below (widgets.cv_chart)."""
        cv = report.cv
        text = Text(f"{cv.folds}-fold CV accuracy vs C (best C = {report.C:.2g}, ◆)\n", end="")
        text.append(f"accuracy {min(cv.scores):.1%} – {max(cv.scores):.1%}")
        return text

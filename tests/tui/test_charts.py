"""Chart axis labels."""

from bertsent.tui.widgets.cv_chart import PercentFormatter


def test_percent_ticks_show_the_decimals_that_tell_neighbours_apart():
    close = PercentFormatter().get_labels_for_ticks([0.77, 0.772, 0.774, 0.776])
    assert close == ["77.0%", "77.2%", "77.4%", "77.6%"]  # whole percents read 77%, 77%, 77%, 78%
    assert PercentFormatter().get_labels_for_ticks([0.6, 0.65, 0.7]) == ["60%", "65%", "70%"]
    assert PercentFormatter().get_labels_for_ticks([0.5]) == ["50%"]

"""Token strength steps: the one rule behind the TUI's and the CLI's token colours and marks."""

from bertsent.core.base.strength import MIN_SCALE, STEPS, strength_steps


def test_steps_are_relative_to_the_strongest_token_and_signed():
    assert strength_steps([0.3, -0.15, 0.06, -0.03, 0.0]) == [STEPS, -2, 1, 0, 0]
    assert strength_steps([-0.5, 0.5]) == [-STEPS, STEPS]
    assert strength_steps([]) == []


def test_a_sentence_of_weak_tokens_stays_weak():
    # Below MIN_SCALE nothing is blown up to full strength.
    assert strength_steps([MIN_SCALE / 4, -MIN_SCALE / 10]) == [1, 0]

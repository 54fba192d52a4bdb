"""`listed`: the one way lists are written in words."""

import pytest

from agreementdsl.lists import listed


def test_lists_in_words() -> None:
    assert listed(["board"]) == "board"
    assert listed(["board", "executives"]) == "board and executives"
    assert listed(["a", "b", "c"]) == "a, b and c"
    assert listed(["a", "b", "c"], "or") == "a, b or c"
    with pytest.raises(ValueError):
        listed([])


def test_counts_in_words() -> None:
    from agreementdsl.lists import counted

    assert counted(1, "row") == "1 row"
    assert counted(0, "row") == "0 rows"
    assert counted(1250, "row") == "1,250 rows"
    assert counted(2, "day", "days") == "2 days"

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

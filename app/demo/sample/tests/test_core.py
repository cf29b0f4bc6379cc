from textkit import normalize_whitespace


def test_normalize_whitespace() -> None:
    assert normalize_whitespace("  a \n b\t c ") == "a b c"

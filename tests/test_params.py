"""saz.params: the one KEY=VALUE parser."""

import pytest

from saz.params import key_values


def test_values_are_python_literals_or_text():
    assert key_values(["n_mels=64", "fmax = 8000.0", "name=tar", "pair=(1, 2)", "on=True", "eq=a=b"]) == \
        {"n_mels": 64, "fmax": 8000.0, "name": "tar", "pair": (1, 2), "on": True, "eq": "a=b"}
    assert key_values([]) == {}
    with pytest.raises(ValueError, match="expected KEY=VALUE, got 'n_mels'"):
        key_values(["n_mels"])


def test_known_keys_and_literals_only():
    keys = {"seconds", "sr"}
    assert key_values(["sr=8000"], keys=keys, text=False) == {"sr": 8000}
    with pytest.raises(ValueError, match="mix=1: expected KEY=VALUE with KEY one of seconds, sr"):
        key_values(["mix=1"], keys=keys, text=False)
    with pytest.raises(ValueError, match="sr: expected KEY=VALUE with KEY one of"):
        key_values(["sr"], keys=keys)
    with pytest.raises(ValueError, match="sr=fast: 'fast' is not a number, string, boolean or tuple"):
        key_values(["sr=fast"], keys=keys, text=False)

"""conforms.py: the quick yes/no against the agreement schema agrees with jsonschema, always."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.conforms import conforms
from agreementdsl.loader import parse_yaml, schema
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(
    p
    for folder in ("agreements", "tests/defects", "tests/data")
    for p in (ROOT / folder).rglob("*.yaml")
    if not p.name.endswith(".test.yaml")
)


def plain(path: Path) -> Any:
    try:
        tree, _ = parse_yaml(SourceFile.read(path))
    except UnicodeDecodeError:
        return None
    return None if tree is None else tree.plain()


def jsonschema_valid(instance: Any) -> bool:
    return not any(jsonschema.Draft202012Validator(schema()).iter_errors(instance))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_test_file_is_judged_as_jsonschema_judges_it(path: Path) -> None:
    instance = plain(path)
    if instance is None:
        pytest.skip("not YAML text")
    assert conforms(schema(), instance) == jsonschema_valid(instance)


def test_the_examples_conform_and_some_defects_do_not() -> None:
    judged = {p.name: conforms(schema(), plain(p)) for p in FILES if plain(p) is not None}
    assert judged["herefordshire.yaml"] and judged["durham-ld.yaml"]
    assert not judged["E101-missing-key.yaml"] and not judged["E102-unknown-key.yaml"]
    assert not judged["E103-wrong-type.yaml"] and not judged["E106-bad-id.yaml"]


# Values of every kind a YAML scalar, list or mapping can hold, including near misses of the
# schema's patterns (ids, dates, years) and of its enums.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(1.0),
    st.sampled_from(
        [
            "",
            "hpct",
            "Hpct",
            "mh-manager",
            "mh--manager",
            "2005-04-01",
            "2005-4-1",
            "2005/06",
            "05/06",
            "04-01",
            "12 months",
            "twelve months",
            "nhs-body",
            "local-authority",
            "council",
            "nhs-act-2006-s75",
            "£1,000",
        ]
    ),
    st.text(max_size=6),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["name", "kind", "x", "hpct", "Bad Key"]), inner, max_size=3
        ),
    ),
    max_leaves=6,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


BASE = plain(ROOT / "agreements" / "herefordshire.yaml")
PATHS = _paths(BASE)


KEYS = st.sampled_from(["hpct", "Hpct", "new-id", "bad key", "", "name", "kind", "aims", "x"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["set", "delete", "add"]), KEYS, VALUES),
        min_size=1,
        max_size=3,
    )
)
def test_altered_agreements_are_judged_as_jsonschema_judges_them(
    edits: list[tuple[tuple[Any, ...], str, str, Any]],
) -> None:
    instance = copy.deepcopy(BASE)
    for path, how, new_key, value in edits:
        parent, key = instance, None
        try:
            for step in path[:-1]:
                parent = parent[step]
            key = path[-1] if path else None
        except (KeyError, IndexError, TypeError):
            continue
        if key is None:
            instance = value if how == "set" else instance
        elif how == "set":
            try:
                parent[key] = value
            except (KeyError, IndexError, TypeError):
                continue
        elif how == "delete" and isinstance(parent, dict):
            parent.pop(key, None)
        elif how == "add" and isinstance(parent, dict):
            target = parent.get(key)
            if isinstance(target, dict):
                target[new_key] = value
    assert conforms(schema(), instance) == jsonschema_valid(instance)


EDITS = [
    (("agreement", "title"), ""),
    (("agreement", "title"), 7),
    (("agreement", "basis"), "nhs-act-2007"),
    (("agreement", "commencement"), "1 April 2005"),
    (("agreement", "termination"), {"notice": "soon"}),
    (("agreement", "termination"), {}),
    (("partners", "Big PCT"), {"name": "x", "kind": "nhs-body"}),
    (("partners", "hpct", "kind"), "charity"),
    (("partners", "hpct", "colour"), "blue"),
    (("pools",), {}),
    (("pools", "mental-health", "services"), ["a", ""]),
    (("pools", "mental-health", "services"), "a"),
    (("outcomes",), {}),
    (("roles", "board"), None),
    (("roles", "board"), {"title": "Board", "members": ["mh-manager"]}),  # minItems 2
    (("extra",), 1),
]


@pytest.mark.parametrize(("path", "value"), EDITS)
def test_each_keyword_of_the_schema_is_judged_as_jsonschema_judges_it(
    path: tuple[str, ...], value: Any
) -> None:
    instance = copy.deepcopy(BASE)
    parent = instance
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    assert not jsonschema_valid(instance)
    assert not conforms(schema(), instance)


def test_checking_a_conforming_file_does_not_import_jsonschema() -> None:
    code = (
        "import sys, agreementdsl\n"
        "ok = agreementdsl.load(sys.argv[1])\n"
        "print(len(ok.errors), 'jsonschema' in sys.modules)\n"
    )
    good = ROOT / "agreements" / "herefordshire.yaml"
    bad = ROOT / "tests" / "defects" / "E102-unknown-key.yaml"
    for path, expected in ((good, "0 False"), (bad, "True")):
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip().endswith(expected), done.stdout

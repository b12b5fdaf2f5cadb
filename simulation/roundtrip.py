"""Writing a scenario back onto the file it was opened from.

A review diff should show the edit and nothing else, so the original YAML text is parsed in
ruamel's round-trip mode and only the values that differ are written into it: comments, key
order, number style and layout stay. A field that was absent stays absent unless it changed;
a changed field that was absent is added where the schema puts it, in its shortest form
(only what differs from the defaults that apply once it is written).
"""

from __future__ import annotations

import copy
import io
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.tokens import CommentToken

from .schema import Scenario

_MISSING = object()
# (mapping, sequence, offset) indentations tried, to find the one the file was written with
_INDENTS = tuple(dict.fromkeys((m, s, o) for m in (2, 4, 3) for s in (m + 2, m, 2, 4) for o in (s - 2, 0)))


def update_text(original: str, scenario: Scenario) -> str | None:
    """`original` with the values of `scenario` written into it; the very same text when
    nothing differs; None when `original` is not a valid scenario (nothing to keep)."""
    from .scenario_io import ScenarioError, parse_yaml, validate

    lf = original.replace("\r\n", "\n")  # written back with the file's own line ends
    try:
        old = validate(parse_yaml(lf, "<original>")).model_dump(mode="json")
    except ScenarioError:
        return None
    if old == scenario.model_dump(mode="json"):
        return original
    writer = _yaml_like(lf)
    root = writer.load(lf)  # (the writer's own load keeps each string's quotes: "Grocer: ..." stays "...")
    _merge(root, old, scenario)
    text = _dump(root, writer)
    return text.replace("\n", "\r\n") if lf != original else text


def _json(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, list):
        return [_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _json(v) for k, v in obj.items()}
    return obj


def _fresh(obj: Any) -> Any:
    """The shortest YAML form of a value written where there was none: a model only with
    what differs from its own field defaults (which apply once the block exists)."""
    if isinstance(obj, BaseModel):
        return CommentedMap((k, _fresh(getattr(obj, k))) for k in obj.model_dump(exclude_defaults=True))
    if isinstance(obj, list):
        return CommentedSeq(_fresh(v) for v in obj)
    if isinstance(obj, dict):
        return CommentedMap((k, _fresh(v)) for k, v in obj.items())
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)  # `1000`, as a person writes it (a float field reads it the same)
    return obj


def _children(obj: Any) -> dict[str, Any]:
    if isinstance(obj, BaseModel):
        return {k: getattr(obj, k) for k in type(obj).model_fields}
    return dict(obj)


def _merge(node: CommentedMap, old: dict, obj: Any) -> None:
    """Write into the mapping `node` (which reads as `old`) the values of `obj` that differ."""
    new = _children(obj)
    for key in [k for k in node if k not in new]:  # a key of a dict field (uncertainty.parameters) removed
        del node[key]
    order = list(new)
    for key, child in new.items():
        before = old.get(key, _MISSING)
        if before == _json(child):
            continue
        if key in node:
            value = _update(node[key], before, child)
            if value is _MISSING:
                del node[key]
            else:
                node[key] = value
        elif child is not None:
            _insert(node, _position(node, key, order), key, _fresh(child))


def _position(node: CommentedMap, key: str, order: list[str]) -> int:
    """Where `key` goes among the keys already in `node`: after those the schema puts before it."""
    rank = order.index(key)
    return sum(1 for k in node if k in order and order.index(k) < rank)


def _insert(node: CommentedMap | CommentedSeq, at: int, key: Any, value: Any) -> None:
    """Insert `key: value` (or append `value` to a sequence) at `at`. At the end of a block, the
    blank lines and comments that followed its last line (they open what comes next) move below
    the new lines."""
    moved = _take_trailing(node) if at == len(node) else None
    if isinstance(node, CommentedSeq):
        node.append(value)
    else:
        node.insert(at, key, value)
    if moved is not None:
        _put_trailing(node, moved)


def _last_leaf(node: Any) -> tuple[Any, Any] | None:
    """The container and key (or index) of the last scalar written in `node`."""
    while isinstance(node, (CommentedMap, CommentedSeq)) and len(node):
        last = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        if not isinstance(node[last], (CommentedMap, CommentedSeq)) or not len(node[last]):
            return node, last
        node = node[last]
    return None


def _slot(container: Any) -> int:
    return 2 if isinstance(container, CommentedMap) else 0  # where ruamel keeps a line's end comment


def _take_trailing(node: Any) -> CommentToken | None:
    """Detach the lines after the last line of `node` (its own end-of-line comment stays)."""
    leaf = _last_leaf(node)
    token = None
    if leaf is not None:
        entry = leaf[0].ca.items.get(leaf[1])
        token = entry[_slot(leaf[0])] if entry and len(entry) > _slot(leaf[0]) else None
    if token is None or token.value.count("\n") < 2:
        return None
    keep, rest = token.value.split("\n", 1)
    moved = copy.copy(token)
    moved.value = "\n" + rest
    token.value = keep + "\n"
    return moved


def _put_trailing(node: Any, token: CommentToken) -> None:
    leaf = _last_leaf(node)
    if leaf is None:
        return
    container, key = leaf
    entry = [None, None, None, None] if isinstance(container, CommentedMap) else [None, None]
    entry[_slot(container)] = token
    container.ca.items[key] = entry


def _update(current: Any, before: Any, obj: Any) -> Any:
    """The new value for a key that stands in the file (`_MISSING`: remove the key)."""
    if obj is None:
        return _MISSING  # an instrument switched off altogether: its block goes
    new = _json(obj)
    if isinstance(current, CommentedMap) and isinstance(before, dict) and isinstance(new, dict):
        _merge(current, before, obj)
        return current
    if isinstance(current, CommentedSeq) and isinstance(before, list) and isinstance(new, list):
        _merge_list(current, before, obj)
        return current
    if isinstance(current, float) and isinstance(new, float):
        return new  # keep the file's style: `2.0` where it said `1.0`
    return _fresh(obj)


def _merge_list(seq: CommentedSeq, before: list, objs: list) -> None:
    for i, obj in enumerate(objs):
        if i >= len(seq):
            _insert(seq, i, None, _fresh(obj))
        elif i >= len(before) or before[i] != _json(obj):
            value = _update(seq[i], before[i] if i < len(before) else _MISSING, obj)
            seq[i] = None if value is _MISSING else value
    del seq[len(objs) :]


def _yaml(indent: tuple[int, int, int]) -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # never re-wrap long lines
    yaml.preserve_quotes = True
    yaml.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return yaml


def _dump(data: Any, yaml: YAML) -> str:
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def _yaml_like(original: str) -> YAML:
    """A writer with the indentation `original` was written with (the first that reproduces it)."""
    for indent in _INDENTS:
        yaml = _yaml(indent)
        if _dump(yaml.load(original), yaml) == original:
            return yaml
    return _yaml(_INDENTS[0])


BEFORE = "{before}"  # in a comment for `with_comments`: where the line's own comment goes


def with_comments(text: str, comments: dict[str, str]) -> str:
    """`text` with `# comment` at the end of the line of each field (a dotted path to a value the
    file holds): where a tool's changes came from, for the review diff. A line's own comment is
    kept, the new one appended; or, where the new comment holds BEFORE (a tool that changed the
    value: the line's comment spoke of the old one), put there as ": <it>". A field the file does
    not hold, or one followed by comment lines (ruamel keeps them in the same token, which this
    would replace), is left as it was."""
    writer = _yaml_like(text)
    root = writer.load(text)
    for path, comment in comments.items():
        *parents, key = path.split(".")
        node = root
        for part in parents:
            node = node.get(part) if isinstance(node, CommentedMap) else None
        if not isinstance(node, CommentedMap) or key not in node:
            continue
        before = (node.ca.items.get(key) or [None] * 3)[2]
        if before is None:
            node.yaml_add_eol_comment(comment.replace(BEFORE, ""), key)
        elif before.value.lstrip(" ").startswith("#") and "\n" not in before.value.rstrip("\n"):
            own = before.value.strip().lstrip("#").strip()
            text_after = comment.replace(BEFORE, f": {own}") if BEFORE in comment else f"{own}; {comment}"
            node.yaml_add_eol_comment(text_after, key, column=before.column)
    return _dump(root, writer)

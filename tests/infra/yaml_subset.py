"""A strict loader for the small YAML subset that infra/ is written in.

PyYAML is not a dependency of the project, so the infra tests parse YAML with this instead
(and compare it with ``yaml.safe_load_all`` whenever PyYAML happens to be importable).

Supported: ``---`` documents, block mappings and sequences (``- key: value`` items too),
single- and double-quoted scalars, plain scalars resolved the way PyYAML resolves them
(null, true/false, decimal int, simple float, else string), one-line flow sequences of scalars
(``["a", "b"]``), empty ``{}`` / ``[]``, and comments.

Anything else raises ``YamlSubsetError`` instead of guessing: anchors, aliases, tags, block
scalars, multi-line scalars, flow mappings, tabs, duplicate keys, and plain scalars whose type
YAML 1.1 makes surprising (``yes``/``no``/``on``/``off``, octal-looking or sexagesimal numbers,
dates): quote those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class YamlSubsetError(ValueError):
    pass


@dataclass(frozen=True)
class _Line:
    number: int
    indent: int
    text: str


_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_AMBIGUOUS_BOOL = {
    *("yes", "Yes", "YES", "no", "No", "NO"),
    *("on", "On", "ON", "off", "Off", "OFF"),
    *("y", "Y", "n", "N"),
}
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_SIMPLE_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+")
# PyYAML's implicit int / float / timestamp resolvers; a match that is not one of the two
# simple forms above is refused rather than typed.
_YAML11_INT = re.compile(
    r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
    r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
)
_YAML11_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?")
_PLAIN_FORBIDDEN_START = set("&*!|>%@`{[]},")


def load_all(text: str) -> list[Any]:
    """Every document of ``text``, like ``list(yaml.safe_load_all(text))``."""
    documents: list[list[_Line]] = []
    current: list[_Line] = []
    explicit = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.rstrip() == "---":
            if current or explicit:
                documents.append(current)
            current, explicit = [], True
            continue
        if raw.startswith(("---", "...", "%")):
            raise YamlSubsetError(f"line {number}: directives and document markers with content")
        line = _logical_line(number, raw)
        if line is not None:
            current.append(line)
    if current or explicit:
        documents.append(current)
    return [_parse_document(lines) for lines in documents]


def _logical_line(number: int, raw: str) -> _Line | None:
    body = raw.rstrip()
    stripped = body.lstrip(" ")
    if stripped.startswith("\t") or "\t" in body[: len(body) - len(stripped)]:
        raise YamlSubsetError(f"line {number}: tab in indentation")
    text = _strip_comment(stripped, number).rstrip()
    if not text:
        return None
    return _Line(number, len(body) - len(stripped), text)


def _strip_comment(text: str, number: int) -> str:
    quote: str | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote == '"':
            if char == "\\":
                index += 1
            elif char == '"':
                quote = None
        elif quote == "'":
            if char == "'":
                if text[index + 1 : index + 2] == "'":
                    index += 1
                else:
                    quote = None
        elif char in "\"'" and (index == 0 or text[index - 1] in " [,:-"):
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] == " "):
            return text[:index]
        index += 1
    if quote is not None:
        raise YamlSubsetError(f"line {number}: unterminated quoted scalar (multi-line?)")
    return text


def _parse_document(lines: list[_Line]) -> Any:
    if not lines:
        return None
    value, position = _parse_block(lines, 0, lines[0].indent)
    if position != len(lines):
        extra = lines[position]
        raise YamlSubsetError(f"line {extra.number}: unexpected indentation or content")
    return value


def _is_sequence_item(line: _Line) -> bool:
    return line.text == "-" or line.text.startswith("- ")


def _parse_block(lines: list[_Line], position: int, indent: int) -> tuple[Any, int]:
    if _is_sequence_item(lines[position]):
        return _parse_sequence(lines, position, indent)
    return _parse_mapping(lines, position, indent)


def _parse_sequence(lines: list[_Line], position: int, indent: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    while position < len(lines) and lines[position].indent == indent:
        line = lines[position]
        if not _is_sequence_item(line):
            raise YamlSubsetError(f"line {line.number}: expected a '- ' sequence item")
        rest = line.text[1:].lstrip(" ")
        if not rest:
            position += 1
            if position < len(lines) and lines[position].indent > indent:
                value, position = _parse_block(lines, position, lines[position].indent)
            else:
                value = None
            items.append(value)
            continue
        # "- key: value" or "- - x": the rest is a block starting at the column after "- ".
        inner_indent = indent + len(line.text) - len(rest)
        if _is_sequence_item(_Line(line.number, inner_indent, rest)) or _split_key(rest):
            lines = [
                *lines[:position],
                _Line(line.number, inner_indent, rest),
                *lines[position + 1 :],
            ]
            value, position = _parse_block(lines, position, inner_indent)
            items.append(value)
            continue
        items.append(_parse_inline_value(rest, line.number))
        position += 1
    if position < len(lines) and lines[position].indent > indent:
        raise YamlSubsetError(f"line {lines[position].number}: unexpected indentation")
    return items, position


def _parse_mapping(lines: list[_Line], position: int, indent: int) -> tuple[dict[Any, Any], int]:
    mapping: dict[Any, Any] = {}
    while position < len(lines) and lines[position].indent == indent:
        line = lines[position]
        split = _split_key(line.text)
        if split is None:
            raise YamlSubsetError(f"line {line.number}: expected 'key: value', got {line.text!r}")
        raw_key, rest = split
        key = _parse_scalar(raw_key, line.number)
        if key in mapping:
            raise YamlSubsetError(f"line {line.number}: duplicate key {key!r}")
        position += 1
        if rest:
            mapping[key] = _parse_inline_value(rest, line.number)
        elif position < len(lines) and lines[position].indent > indent:
            mapping[key], position = _parse_block(lines, position, lines[position].indent)
        elif (
            position < len(lines)
            and lines[position].indent == indent
            and _is_sequence_item(lines[position])
        ):
            raise YamlSubsetError(
                f"line {lines[position].number}: indent sequences under their key"
            )
        else:
            mapping[key] = None
    if position < len(lines) and lines[position].indent > indent:
        raise YamlSubsetError(f"line {lines[position].number}: unexpected indentation")
    return mapping, position


def _split_key(text: str) -> tuple[str, str] | None:
    """``(key, rest)`` if ``text`` is a ``key:`` / ``key: value`` entry, else None."""
    if text[0] in "\"'":
        end = _closing_quote(text)
        if end is None:
            return None
        after = text[end + 1 :]
        if after == ":" or after.startswith(": "):
            return text[: end + 1], after[1:].strip()
        return None
    if text[0] in "[{" or text.startswith("- "):
        return None
    match = re.search(r":( |$)", text)
    if match is None:
        return None
    return text[: match.start()].rstrip(), text[match.end() :].strip()


def _closing_quote(text: str) -> int | None:
    quote = text[0]
    index = 1
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            if quote == "'" and text[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index
        index += 1
    return None


def _parse_inline_value(text: str, number: int) -> Any:
    if text in ("{}", "[]"):
        return {} if text == "{}" else []
    if text.startswith("["):
        return _parse_flow_sequence(text, number)
    if text.startswith("{"):
        raise YamlSubsetError(f"line {number}: flow mappings are not supported")
    if text[0] in "|>":
        raise YamlSubsetError(f"line {number}: block scalars are not supported")
    if text[0] not in "\"'" and _split_key(text) is not None:
        raise YamlSubsetError(f"line {number}: nested 'key: value' on one line: quote it")
    return _parse_scalar(text, number)


def _parse_flow_sequence(text: str, number: int) -> list[Any]:
    if not text.endswith("]"):
        raise YamlSubsetError(f"line {number}: flow sequence must close on its line")
    body = text[1:-1].strip()
    items: list[Any] = []
    while body:
        if body[0] in "\"'":
            end = _closing_quote(body)
            if end is None:
                raise YamlSubsetError(f"line {number}: unterminated quoted scalar")
            token, body = body[: end + 1], body[end + 1 :].lstrip()
        else:
            comma = body.find(",")
            token, body = (body, "") if comma < 0 else (body[:comma], body[comma:])
            token = token.strip()
            if any(char in token for char in "[]{}"):
                raise YamlSubsetError(f"line {number}: nested flow collections")
        items.append(_parse_scalar(token, number))
        if body.startswith(","):
            body = body[1:].lstrip()
            if not body:
                raise YamlSubsetError(f"line {number}: trailing comma in flow sequence")
        elif body:
            raise YamlSubsetError(f"line {number}: expected ',' in flow sequence")
    return items


def _parse_scalar(text: str, number: int) -> Any:
    if text.startswith('"'):
        return _double_quoted(text, number)
    if text.startswith("'"):
        if _closing_quote(text) != len(text) - 1:
            raise YamlSubsetError(f"line {number}: text after a quoted scalar")
        return text[1:-1].replace("''", "'")
    return _resolve_plain(text, number)


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def _double_quoted(text: str, number: int) -> str:
    if _closing_quote(text) != len(text) - 1:
        raise YamlSubsetError(f"line {number}: text after a quoted scalar")
    out: list[str] = []
    index = 1
    while index < len(text) - 1:
        char = text[index]
        if char == "\\":
            escaped = text[index + 1]
            if escaped not in _ESCAPES:
                raise YamlSubsetError(f"line {number}: unsupported escape \\{escaped}")
            out.append(_ESCAPES[escaped])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _resolve_plain(text: str, number: int) -> Any:
    if text[0] in _PLAIN_FORBIDDEN_START or text in ("<<", "=") or text.startswith(("? ", "- ")):
        raise YamlSubsetError(f"line {number}: unsupported YAML construct {text!r}")
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _AMBIGUOUS_BOOL:
        raise YamlSubsetError(f"line {number}: {text!r} is a YAML 1.1 boolean: quote it")
    if _DECIMAL.fullmatch(text):
        return int(text)
    if _SIMPLE_FLOAT.fullmatch(text):
        return float(text)
    if _YAML11_INT.fullmatch(text) or _YAML11_FLOAT.fullmatch(text) or _TIMESTAMP.fullmatch(text):
        raise YamlSubsetError(f"line {number}: {text!r} has a surprising YAML 1.1 type: quote it")
    return text

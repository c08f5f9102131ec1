"""Reading the official LFW protocol files.

Image paths are relative to the data set's ``images/`` folder, for example
``Aaron_Peirsol/Aaron_Peirsol_0001.jpg`` (the index in the protocol files is 1-based and is
zero-padded to four digits in the file name).

* View 1 (model development): ``pairsDevTrain.txt`` / ``pairsDevTest.txt`` have a header with one
  number N, then N same-person lines ``name i j`` and N different-person lines
  ``name1 i name2 j``. Their identities are listed in ``peopleDevTrain.txt`` /
  ``peopleDevTest.txt`` (header count, then ``name count`` lines).
* View 2 (the reported benchmark): ``pairs.txt`` has a header ``10 300``, then 10 folds, each of
  300 same-person lines followed by 300 different-person lines.

Malformed input raises :class:`ProtocolError` (a ``ValueError``) naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Pair",
    "ProtocolError",
    "image_path",
    "person_of",
    "read_pairs",
    "read_people",
    "view2_fold_people",
]


class ProtocolError(ValueError):
    """A protocol file does not have the expected format."""


@dataclass(frozen=True)
class Pair:
    """One verification pair: two relative image paths, whether they show the same person, and
    the fold it belongs to (0 for View 1 files, 0..9 for ``pairs.txt``)."""

    path1: str
    path2: str
    same: bool
    fold: int


def image_path(name: str, index: int) -> str:
    """The relative path of a person's ``index``-th image (1-based, as in the protocol files)."""
    return f"{name}/{name}_{index:04d}.jpg"


def person_of(path: str) -> str:
    """The identity of a relative image path (its folder name)."""
    return path.replace("\\", "/").split("/", 1)[0]


def read_pairs(path: str | Path) -> list[Pair]:
    """Read a pairs file (``pairs.txt``, ``pairsDevTrain.txt`` or ``pairsDevTest.txt``).

    A one-number header (View 1) gives one fold, numbered 0; a two-number header ``F N`` gives F
    folds of N same-person pairs followed by N different-person pairs, numbered 0..F-1.
    """
    path = Path(path)
    lines = _content_lines(path)
    header_no, header = lines[0]
    n_folds, per_fold = _pairs_header(path, header_no, header)
    body = lines[1:]
    _check_line_count(path, lines, expected=n_folds * 2 * per_fold, what="pair")
    pairs = []
    for position, (line_no, fields) in enumerate(body):
        fold, within = divmod(position, 2 * per_fold)
        same = within < per_fold
        pairs.append(_parse_pair(path, line_no, fields, same, fold))
    return pairs


def read_people(path: str | Path) -> dict[str, int]:
    """Read a people file (``peopleDevTrain.txt``, ``peopleDevTest.txt``): name -> image count,
    in file order."""
    path = Path(path)
    lines = _content_lines(path)
    header_no, header = lines[0]
    if len(header) != 1:
        raise _error(path, header_no, f"header should be one number, got {' '.join(header)!r}")
    count = _positive_int(path, header_no, header[0], "person count")
    _check_line_count(path, lines, expected=count, what="person")
    people: dict[str, int] = {}
    for line_no, fields in lines[1:]:
        if len(fields) != 2:
            raise _error(path, line_no, f"expected 'name count', got {' '.join(fields)!r}")
        name = _name(path, line_no, fields[0])
        if name in people:
            raise _error(path, line_no, f"{name} is listed twice")
        people[name] = _positive_int(path, line_no, fields[1], "image count")
    return people


def view2_fold_people(pairs: list[Pair]) -> list[set[str]]:
    """The identities of each View 2 fold: the names occurring in that fold's pairs.

    LFW's ``people.txt`` (View 2's official people split) is not shipped here; the names in a
    fold's pairs are what must be kept out of training when that fold is tested.
    """
    if not pairs:
        return []
    folds: list[set[str]] = [set() for _ in range(max(p.fold for p in pairs) + 1)]
    for pair in pairs:
        folds[pair.fold].update((person_of(pair.path1), person_of(pair.path2)))
    return folds


# --- helpers ---------------------------------------------------------------------------------


def _error(path: Path, line_no: int, message: str) -> ProtocolError:
    return ProtocolError(f"{path}: line {line_no}: {message}")


def _content_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(1-based line number, fields) of every non-blank line; the file must have a header."""
    text = path.read_text(encoding="utf-8")
    lines = [(no, line.split()) for no, line in enumerate(text.splitlines(), start=1)]
    lines = [(no, fields) for no, fields in lines if fields]
    if not lines:
        raise ProtocolError(f"{path}: line 1: empty file, expected a header")
    return lines


def _pairs_header(path: Path, line_no: int, fields: list[str]) -> tuple[int, int]:
    if len(fields) == 1:  # View 1: one set of N same + N different pairs
        return 1, _positive_int(path, line_no, fields[0], "pair count")
    if len(fields) == 2:  # View 2: F folds of N same + N different pairs
        return (
            _positive_int(path, line_no, fields[0], "fold count"),
            _positive_int(path, line_no, fields[1], "pairs per fold"),
        )
    raise _error(path, line_no, f"header should be 'N' or 'FOLDS N', got {' '.join(fields)!r}")


def _check_line_count(
    path: Path, lines: list[tuple[int, list[str]]], expected: int, what: str
) -> None:
    found = len(lines) - 1
    if found < expected:
        raise _error(
            path,
            lines[-1][0],
            f"file ends after {found} {what} lines; the header (line {lines[0][0]}) "
            f"promises {expected}",
        )
    if found > expected:
        raise _error(
            path,
            lines[expected + 1][0],
            f"more {what} lines than the {expected} the header (line {lines[0][0]}) promises",
        )


def _parse_pair(path: Path, line_no: int, fields: list[str], same: bool, fold: int) -> Pair:
    if same:
        if len(fields) != 3:
            raise _error(
                path, line_no, f"expected a same-person line 'name i j', got {' '.join(fields)!r}"
            )
        name = _name(path, line_no, fields[0])
        i, j = (_positive_int(path, line_no, f, "image index") for f in fields[1:])
        return Pair(image_path(name, i), image_path(name, j), True, fold)
    if len(fields) != 4:
        raise _error(
            path,
            line_no,
            f"expected a different-person line 'name1 i name2 j', got {' '.join(fields)!r}",
        )
    name1, name2 = _name(path, line_no, fields[0]), _name(path, line_no, fields[2])
    i = _positive_int(path, line_no, fields[1], "image index")
    j = _positive_int(path, line_no, fields[3], "image index")
    return Pair(image_path(name1, i), image_path(name2, j), False, fold)


def _positive_int(path: Path, line_no: int, text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _error(path, line_no, f"{what} {text!r} is not an integer") from None
    if value < 1:
        raise _error(path, line_no, f"{what} must be positive, got {value}")
    return value


def _name(path: Path, line_no: int, text: str) -> str:
    # Names become folder names: refuse anything that could leave the images folder.
    if "/" in text or "\\" in text or text.startswith("."):
        raise _error(path, line_no, f"{text!r} is not a valid person name")
    return text

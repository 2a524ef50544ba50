"""A CSV file read as a stream of records: never whole into memory, with bounded lines.

The upload is read line by line in bytes (`readline` with a limit), so a file of one
10 MB line is refused after reading MAX_LINE bytes of it instead of growing a string,
and each line is decoded on its own (UTF-8 never puts a newline byte inside a
character, so a quoted field spread over lines still decodes). The `csv` module then joins
lines into records. A file that is not a CSV table we can read (not UTF-8, binary, a
line past the limit, no header) raises `FileRefused` with the row it failed at: rows
after it could not be counted, so nothing of such a file is kept.
"""
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_LINE = 64 * 1024  # bytes; generous for a row of a points export
MAX_FIELD = 4096  # characters; emails, reasons and names are far shorter


@dataclass(frozen=True)
class Problem:
    row: int
    field: str | None
    message: str

    def json(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


class FileRefused(ValueError):
    """The file cannot be read as a CSV table; `problem` says where and why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def open_table(stream: BinaryIO) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header (names in lower case), then (row number, {column: value}) for each record
    after it (the header is row 1)."""
    lines = _Lines(stream)
    reader = csv.reader(lines, strict=True)
    header = _header(reader, lines)
    return header, _records(reader, lines, header)


def _records(reader, lines, header: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    for values in _checked(reader, lines):
        if any(value.strip() for value in values):  # spreadsheets leave blank lines at the end
            yield lines.record, dict(zip(header, values))


def _header(reader, lines) -> list[str]:
    first = next(_checked(reader, lines), None)
    if first is None:
        raise FileRefused(Problem(1, None, "the file is empty: a header row is needed"))
    names = [name.strip().lower() for name in first]
    if len(set(names)) != len(names):
        raise FileRefused(Problem(1, None, "the header names a column twice"))
    return names


def _checked(reader, lines) -> Iterator[list[str]]:
    """The reader's records, its failures turned into FileRefused at the record they hit."""
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise FileRefused(Problem(lines.record + 1, None, f"this is not a CSV file we can read ({error})"))
        lines.record += 1
        if any(len(value) > MAX_FIELD for value in values):
            raise FileRefused(Problem(lines.record, None, f"a cell is longer than {MAX_FIELD} characters"))
        yield values


class _Lines:
    """The upload's lines, decoded one by one, each at most MAX_LINE bytes."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.record = 0  # records the reader has returned (the header is record 1)
        self.first = True

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.stream.readline(MAX_LINE + 1)
        if not line:
            raise StopIteration
        row = self.record + 1
        if len(line) > MAX_LINE:
            raise FileRefused(Problem(row, None, f"a line is longer than {MAX_LINE // 1024} KB: "
                                                 "this is not a points export"))
        if b"\x00" in line:
            raise FileRefused(Problem(row, None, "the file holds binary data: it is not a CSV text file"))
        try:
            text = line.decode("utf-8-sig" if self.first else "utf-8")
        except UnicodeDecodeError:
            raise FileRefused(Problem(row, None, "the file is not UTF-8 text: save it as CSV UTF-8")) from None
        self.first = False
        return text

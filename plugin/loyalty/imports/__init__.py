"""Moving in from another loyalty app (SPEC "imports"): read a CSV, match its rows to
members, preview, apply, revert.

- `reading`: the file streamed as CSV records, line by line, with the refusals of a file
  that is not a readable CSV table at all.
- `formats`: the generic columns, and the presets that rename other apps' export columns.
- `rows`: one record's fields parsed (points, dates, tier, birthday), each error named.
- `matching`: customers found by id, by normalised email among members, then in the store.
- `previews`: an upload read whole into an import and its rows; nothing moves.
- `applying`: the apply and the revert, points through plugin/loyalty/ledger/imports.py.
"""

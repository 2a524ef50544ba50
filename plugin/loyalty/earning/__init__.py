"""The earning arithmetic, pure: standard library and `decimal` only, no database, no Flask,
so a simulator can replay history through it and tests can check it exhaustively."""

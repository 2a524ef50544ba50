"""How Python enums are stored: by value, as portable strings, never as native DB enums."""
import enum

from sqlalchemy import Enum


def stored_by_value(enum_class: type[enum.Enum]) -> Enum:
    return Enum(
        enum_class,
        native_enum=False,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )

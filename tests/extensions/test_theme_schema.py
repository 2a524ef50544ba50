"""The theme app extension's layout and each block's `{% schema %}`, against the rules of
theme app extensions that can be checked offline (SHOPIFY.md, "Surfaces in the store"):
the CLI's folders, targets, setting types and their required keys, at most 30 blocks, the
assets a schema names, and every locale key a block or its schema uses (and no dead ones)."""
import re
import tomllib

import pytest

from tests.extensions.theme_liquid import EXTENSION, blocks, block_source, locale, lookup, schema

TARGETS = {"section", "body", "head", "compliance_head"}
SCHEMA_KEYS = {"name", "target", "javascript", "stylesheet", "settings", "available_if", "enabled_on",
               "disabled_on", "class", "tag", "default"}
SIDEBAR = {"header", "paragraph"}
INPUT_TYPES = {"checkbox", "number", "radio", "range", "select", "text", "textarea", "color", "color_background",
               "font_picker", "image_picker", "url", "video_url", "richtext", "inline_richtext", "product",
               "collection", "article", "blog", "page", "link_list", "metaobject"}
TEMPLATES = {"404", "article", "blog", "cart", "collection", "list-collections", "customers/account",
             "customers/activate_account", "customers/addresses", "customers/login", "customers/order",
             "customers/register", "customers/reset_password", "gift_card", "index", "page", "password",
             "product", "search", "*"}
MAX_BLOCKS = 30
MAX_NAME = 25
MAX_LIQUID_BYTES = 100_000  # all blocks and snippets together
LITERAL_T = re.compile(r"""['"]([\w.-]+)['"]\s*\|\s*t\b""")
STRINGS_LIST = re.compile(r"assign loyalty_keys = '([^']+)'")


def schema_locale() -> dict:
    return locale("en.default.schema.json")


def translated(value: str) -> str:
    return lookup(schema_locale(), value[2:]) if value.startswith("t:") else value


def test_the_extension_has_the_cli_layout_and_is_a_theme_extension():
    config = tomllib.loads((EXTENSION / "shopify.extension.toml").read_text())
    assert config["type"] == "theme" and config["name"]
    assert {p.name for p in EXTENSION.iterdir()} == {"shopify.extension.toml", "blocks", "snippets", "assets",
                                                      "locales"}
    assert {p.name for p in (EXTENSION / "locales").iterdir()} == {"en.default.json", "en.default.schema.json"}
    assert 0 < len(blocks()) <= MAX_BLOCKS


def test_the_liquid_stays_under_the_platforms_total():
    files = [*(EXTENSION / "blocks").glob("*.liquid"), *(EXTENSION / "snippets").glob("*.liquid")]
    assert sum(path.stat().st_size for path in files) <= MAX_LIQUID_BYTES


@pytest.mark.parametrize("block", blocks())
def test_each_schema_has_known_keys_a_target_and_a_short_name(block):
    found = schema(block)
    assert set(found) <= SCHEMA_KEYS, set(found) - SCHEMA_KEYS
    assert found["target"] in TARGETS
    assert 0 < len(translated(found["name"])) <= MAX_NAME
    assert not ("enabled_on" in found and "disabled_on" in found)
    for where in ("enabled_on", "disabled_on"):
        assert set(found.get(where, {}).get("templates", [])) <= TEMPLATES


@pytest.mark.parametrize("block", blocks())
def test_each_schema_names_assets_that_exist(block):
    found = schema(block)
    for key, suffix in (("javascript", ".js"), ("stylesheet", ".css")):
        if key in found:
            assert found[key].endswith(suffix) and (EXTENSION / "assets" / found[key]).is_file()


def setting_problems(setting: dict) -> list[str]:
    kind = setting.get("type")
    if kind in SIDEBAR:
        return [] if "content" in setting else ["a sidebar setting needs content"]
    problems = [] if kind in INPUT_TYPES else [f"unknown type {kind}"]
    problems += [f"{key} is required" for key in ("id", "label") if key not in setting]
    default = setting.get("default")
    if kind in ("select", "radio"):
        values = [option["value"] for option in setting.get("options", []) if "label" in option]
        if not values or (default is not None and default not in values):
            problems.append("options with labels, and a default among them")
    if kind == "range" and not all(key in setting for key in ("min", "max", "step", "default")):
        problems.append("a range needs min, max, step and default")
    if kind == "checkbox" and not isinstance(default, bool):
        problems.append("a checkbox default is true or false")
    if kind == "color" and default is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", default):
        problems.append("a colour default is #rrggbb")
    return problems


@pytest.mark.parametrize("block", blocks())
def test_each_setting_is_a_theme_setting_with_what_its_type_requires(block):
    settings = schema(block)["settings"]
    ids = [s["id"] for s in settings if "id" in s]
    assert len(ids) == len(set(ids))
    assert {s["id"]: setting_problems(s) for s in settings if setting_problems(s)} == {}


def schema_strings(node) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in schema_strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in schema_strings(value)]
    return [node] if isinstance(node, str) and node.startswith("t:") else []


@pytest.mark.parametrize("block", blocks())
def test_every_schema_translation_key_is_in_the_schema_locale(block):
    for key in schema_strings(schema(block)):
        assert translated(key)


def leaves(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for name, value in tree.items():
        if isinstance(value, dict) and not set(value) <= {"one", "other"}:
            keys |= leaves(value, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def liquid_sources() -> str:
    return "".join(block_source(b) for b in blocks()) + "".join(
        p.read_text() for p in (EXTENSION / "snippets").glob("*.liquid"))


def test_every_storefront_key_a_block_uses_exists_and_every_key_is_used():
    used = set(LITERAL_T.findall(liquid_sources()))
    [listed] = STRINGS_LIST.findall(liquid_sources())
    used |= {f"loyalty.panel.{key}" for key in listed.split(",")}
    assert used == leaves(locale())


def test_every_schema_locale_key_is_used():
    used = {key[2:] for b in blocks() for key in schema_strings(schema(b))}
    assert used == leaves(schema_locale())

"""The theme app extension's Liquid rendered as a store renders it, through python-liquid:
for the development store's theme page (admin_ui/dev/theme.py) and the block tests.

Shopify's Liquid has a few tags and filters that plain Liquid lacks; the blocks use only
these, registered here: `{% schema %}` (the block's settings, printed as nothing),
`{% render 'snippet' %}` (python-liquid's own, reading snippets/), and the filters `t`
(locales/en.default.json, with `count` choosing `one`/`other` and `{{ name }}` filled in;
an unknown key fails the test instead of printing a placeholder), `asset_url` (a file that
is not in assets/ fails too) and `json`. Like the store, output is not auto-escaped: a
block escapes what it prints, and the tests check that it does.
"""
import json
import re
from pathlib import Path

from liquid import Environment, FileSystemLoader
from liquid.builtin.tags.comment_tag import CommentNode
from liquid.exceptions import LiquidSyntaxError
from liquid.tag import Tag
from liquid.token import TOKEN_EOF, TOKEN_TAG

EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "loyalty-theme"
CDN = "https://cdn.shopify.com/extensions/loyalty-theme/assets/"  # where the store serves assets from
SCHEMA = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.S)
INTERPOLATION = re.compile(r"{{\s*(\w+)\s*}}")


class SchemaTag(Tag):
    """`{% schema %}...{% endschema %}`: read by the theme editor, rendered as nothing."""

    name = "schema"
    end = "endschema"

    def parse(self, stream):
        token = stream.eat(TOKEN_TAG)
        while not (stream.current.kind == TOKEN_TAG and stream.current.value == self.end):
            if stream.current.kind == TOKEN_EOF:
                raise LiquidSyntaxError("schema tag was never closed", token=token)
            next(stream)
        return CommentNode(token)


def locale(name: str = "en.default.json", extension: Path = EXTENSION) -> dict:
    return json.loads((extension / "locales" / name).read_text())


def lookup(tree: dict, key: str):
    """The value at a dotted key; KeyError naming the key when it is missing."""
    node = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"translation missing: {key}")
        node = node[part]
    return node


def translate(strings: dict):
    def t(key: str, count=None, **values) -> str:
        found = lookup(strings, key)
        if isinstance(found, dict):
            found = found["one" if count == 1 else "other"]
        values = {**values, **({} if count is None else {"count": count})}
        return INTERPOLATION.sub(lambda m: str(values.get(m.group(1), m.group(0))), found)
    return t


def asset_filter(base: str):
    def asset_url(name: str) -> str:
        if not (EXTENSION / "assets" / name).is_file():
            raise FileNotFoundError(f"no asset {name}")
        return base + name
    return asset_url


def json_filter(value) -> str:
    # As the store's `json`: safe inside <script>, since < > & never appear raw.
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def environment(assets: str = CDN, extension: Path = EXTENSION) -> Environment:
    env = Environment(loader=FileSystemLoader(extension / "snippets", ext=".liquid"))
    env.add_tag(SchemaTag)
    env.add_filter("t", translate(locale(extension=extension)))
    env.add_filter("asset_url", asset_filter(assets))
    env.add_filter("json", json_filter)
    return env


def blocks(extension: Path = EXTENSION) -> list[str]:
    return sorted(path.stem for path in (extension / "blocks").glob("*.liquid"))


def block_source(name: str, extension: Path = EXTENSION) -> str:
    return (extension / "blocks" / f"{name}.liquid").read_text()


def schema(name: str, extension: Path = EXTENSION) -> dict:
    found = SCHEMA.findall(block_source(name, extension))
    assert len(found) == 1, f"{name}: one {{% schema %}} expected, found {len(found)}"
    return json.loads(found[0])


def defaults(name: str) -> dict:
    return {s["id"]: s.get("default") for s in schema(name)["settings"] if "id" in s}


def render_block(name: str, customer: dict | None = None, product: dict | None = None, assets: str = CDN,
                 **settings) -> str:
    """The block as a store prints it for this shopper (None: logged out), with the
    merchant's settings (the schema's defaults unless given); `assets` is where `asset_url`
    points."""
    data = {
        "block": {"settings": {**defaults(name), **settings}, "shopify_attributes": ""},
        "customer": customer,
        "product": product,
        "shop": {"currency": "USD", "money_format": "${{amount}}"},
        "request": {"locale": {"iso_code": "en"}},
        "routes": {"account_login_url": "/account/login", "account_register_url": "/account/register",
                   "root_url": "/"},
    }
    return environment(assets).from_string(block_source(name), globals=data).render()

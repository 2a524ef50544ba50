"""The extension's Liquid as the store renders it: the development store's stand-in for the
store's Liquid (admin_ui/dev/theme_liquid.py), which the block tests render through too."""
from admin_ui.dev.theme_liquid import (  # noqa: F401 (re-exported for the tests)
    CDN,
    EXTENSION,
    block_source,
    blocks,
    locale,
    lookup,
    render_block,
    schema,
)

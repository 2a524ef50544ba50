"""The development store's customers and products: what sample orders buy, and what the
development platform answers when the app looks products up (earning rules on product
type, tags or collections need them)."""
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DevCustomer:
    customer_id: int
    first_name: str
    last_name: str

    @property
    def email(self) -> str:
        return f"{self.first_name.lower()}@example.com"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DevProduct:
    product_id: int
    title: str
    sku: str
    price: Decimal
    product_type: str
    tags: tuple[str, ...]
    collection_ids: tuple[int, ...]
    gift_card: bool = False


VENDOR = "Development Tea Co"
UPDATED_AT = "2026-01-01T00:00:00Z"

CUSTOMERS = (
    DevCustomer(7100000001, "Ada", "Lovelace"),
    DevCustomer(7100000002, "Grace", "Hopper"),
    DevCustomer(7100000003, "Katherine", "Johnson"),
    DevCustomer(7100000004, "Alan", "Turing"),
    DevCustomer(7100000005, "Edsger", "Dijkstra"),
)

PRODUCTS = (
    DevProduct(8100000001, "Oolong tin", "OOLONG", Decimal("42.00"), "Tea", ("tea", "loose-leaf"), (4100000001,)),
    DevProduct(8100000002, "Matcha whisk", "WHISK", Decimal("28.50"), "Accessories", ("matcha",), (4100000002,)),
    DevProduct(8100000003, "Cast-iron teapot", "TEAPOT", Decimal("145.00"), "Teaware", ("gift-idea",),
               (4100000002, 4100000003)),
    DevProduct(8100000004, "Gift card", "GIFT", Decimal("25.00"), "Gift card", (), (), gift_card=True),
)

# The collections the products above are in, by title (the rule editor offers them by title).
COLLECTIONS = {4100000001: "Loose-leaf tea", 4100000002: "Tea ceremony", 4100000003: "Gift ideas"}


def customer(customer_id: int) -> DevCustomer | None:
    return next((c for c in CUSTOMERS if c.customer_id == customer_id), None)


def product(product_id: int) -> DevProduct | None:
    return next((p for p in PRODUCTS if p.product_id == product_id), None)

from __future__ import annotations

from pathlib import Path

import pytest

from triggers import (
    CsvFormatError,
    RowError,
    build_profiles,
    load_customers,
    load_products,
    load_purchases,
    read_customers,
    read_products,
    read_purchases,
)
from triggers.profiles import catalogue_of

PRODUCTS = """sku,name,category,price
A,Arabica beans,coffee,7.50
B,Oat milk,dairy,1.99
C,Bad price,coffee,cheap
A,Arabica again,coffee,8.00
D,,tea,3.00
E,Green tea,tea,-1
F,Black tea,tea,2.50,extra
G,Too short
"""

CUSTOMERS = """customer_id,gender,age,tier,consents
u1,female,34,member,personalised_offers;signage
u2,MALE,,,
u3,robot,20,,
u4,female,200,,
u5,other,25,gold,personalised_offers;spam
u6,unknown,forty,,
"""

PURCHASES = """basket_id,customer_id,t_ms,sku,quantity,price
b1,u1,1700000000000,A,1,7.50
b1,u1,1700000000000,B,2,1.99
b2,u2,1700000100000,Z,1,1.00
b3,u9,1700000200000,A,1,7.50
b4,u2,yesterday,A,1,7.50
b5,u2,1700000300000,A,0,7.50
b6,u2,1700000400000,B,1,
"""


def test_good_product_rows_are_kept_and_each_bad_row_says_row_column_and_reason() -> None:
    result = read_products(PRODUCTS)
    assert [p.sku for p in result.records] == ["A", "B"]
    assert result.records[0].price == 7.5
    assert [(e.row, e.column) for e in result.errors] == [
        (4, "price"),
        (5, "sku"),
        (6, "name"),
        (7, "price"),
        (8, "*"),
        (9, "category"),
    ]
    assert "'cheap' is not a number" in result.errors[0].reason
    assert "repeats an earlier row" in result.errors[1].reason
    assert "row 4, column price" in result.report()
    assert result.report().startswith("2 rows imported, 6 rows refused")


def test_customers_parse_gender_age_tier_and_consents() -> None:
    result = read_customers(CUSTOMERS)
    by_id = {c.shopper_id: c for c in result.records}
    assert set(by_id) == {"u1", "u2"}
    assert by_id["u1"].consents == {"personalised_offers", "signage"}
    assert by_id["u1"].is_member
    assert by_id["u2"].gender == "male"
    assert by_id["u2"].age is None
    assert not by_id["u2"].is_member
    assert [(e.row, e.column) for e in result.errors] == [
        (4, "gender"),
        (5, "age"),
        (6, "consents"),
        (7, "age"),
    ]
    assert "spam" in result.errors[2].reason


def test_purchases_are_checked_against_catalogue_and_customers() -> None:
    catalogue = catalogue_of(read_products(PRODUCTS).records)
    result = read_purchases(PURCHASES, catalogue, {"u1", "u2"})
    assert [(p.basket_id, p.sku, p.category) for p in result.records] == [
        ("b1", "A", "coffee"),
        ("b1", "B", "dairy"),
    ]
    assert [(e.row, e.column) for e in result.errors] == [
        (4, "sku"),
        (5, "customer_id"),
        (6, "t_ms"),
        (7, "quantity"),
        (8, "price"),
    ]
    assert "'Z' is not in the catalogue" in result.errors[0].reason


def test_a_header_without_a_required_column_refuses_the_whole_file() -> None:
    with pytest.raises(CsvFormatError, match=r"lacks columns \['price'\]"):
        read_products("sku,name,category\nA,x,y\n")


def test_loaders_read_files_and_profiles_carry_their_purchases(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "purchases.csv").write_text(PURCHASES, encoding="utf-8")
    catalogue = catalogue_of(load_products(tmp_path / "products.csv").records)
    customers = load_customers(tmp_path / "customers.csv").records
    purchases = load_purchases(
        tmp_path / "purchases.csv", catalogue, {c.shopper_id for c in customers}
    ).records
    profiles = build_profiles(customers, purchases, catalogue)
    u1 = profiles["u1"]
    assert len(u1.purchases) == 2
    assert u1.history.last_sku_ms == {"A": 1_700_000_000_000, "B": 1_700_000_000_000}
    assert u1.history.spend_between(0, 2_000_000_000_000) == pytest.approx(7.5 + 2 * 1.99)
    assert profiles["u2"].purchases == ()


def test_row_errors_read_as_sentences() -> None:
    assert str(RowError(3, "price", "is empty")) == "row 3, column price: is empty"


def test_a_spreadsheet_export_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8-sig")
    assert [p.sku for p in load_products(tmp_path / "products.csv").records] == ["A", "B"]

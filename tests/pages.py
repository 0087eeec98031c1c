"""Read one element of a page by its id, so an assertion compares that element's whole text.

`"12" in page` also holds when the page says "$12,345.00" elsewhere; `text_of(page, "seats") ==
"12"` holds only when the seats say 12. Built on the standard library's html.parser: the pages
are ours and well formed, so a small tree is enough.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

# Elements that never have an end tag (HTML's void elements).
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        """The text inside, tags dropped and runs of whitespace made one space."""
        parts: list[str] = []

        def walk(node: Element | str) -> None:
            if isinstance(node, str):
                parts.append(node)
            else:
                for child in node.children:
                    walk(child)

        walk(self)
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def find_all(self, tag: str) -> list[Element]:
        found: list[Element] = []
        for child in self.children:
            if isinstance(child, Element):
                if child.tag == tag:
                    found.append(child)
                found.extend(child.find_all(tag))
        return found


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.by_id: dict[str, Element] = {}
        self.duplicates: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if "id" in element.attrs:
            if element.attrs["id"] in self.by_id:
                self.duplicates.add(element.attrs["id"])
            self.by_id[element.attrs["id"]] = element
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching open element (a <p> or <li> left open closes with its parent).
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _page(page: Any) -> str:
    """A Flask test response or the page's HTML as text."""
    return page.get_data(as_text=True) if hasattr(page, "get_data") else page


def parse(page: Any) -> _TreeBuilder:
    builder = _TreeBuilder()
    builder.feed(_page(page))
    builder.close()
    return builder


def element(page: Any, element_id: str) -> Element | None:
    """The element with this id, or None. Two elements with one id fail the test."""
    tree = parse(page)
    assert element_id not in tree.duplicates, f"more than one element has id={element_id!r}"
    return tree.by_id.get(element_id)


def text_of(page: Any, element_id: str) -> str | None:
    """The whole text of the element with this id (whitespace collapsed), or None if absent."""
    found = element(page, element_id)
    return found.text() if found is not None else None


def attr_of(page: Any, element_id: str, name: str) -> str | None:
    """An attribute of the element with this id, or None if the element or attribute is absent."""
    found = element(page, element_id)
    return found.attrs.get(name) if found is not None else None


def table_rows(page: Any, table_id: str) -> list[list[str]]:
    """The text of every cell of each body row of the table with this id."""
    table = element(page, table_id)
    assert table is not None, f"no table id={table_id!r}"
    bodies = table.find_all("tbody") or [table]
    return [[cell.text() for cell in row.children if isinstance(cell, Element) and cell.tag in ("td", "th")]
            for body in bodies for row in body.find_all("tr")]


def texts_of_class(page: Any, class_name: str) -> list[str]:
    """The text of every element carrying this class, in page order."""
    found: list[str] = []

    def walk(node: Element) -> None:
        for child in node.children:
            if isinstance(child, Element):
                if class_name in child.attrs.get("class", "").split():
                    found.append(child.text())
                walk(child)

    walk(parse(page).root)
    return found

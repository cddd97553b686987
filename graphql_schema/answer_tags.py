"""The cache tags of an answer: what it depends on, in the names content events purge by
(service/cache_tags.py), so a CDN keeping the answer can drop it when, and only when, one
of them changes. Both read paths tag their answers from this module, so they agree:

- a root lookup (`post`, `page`, `tag`, `author` by id or slug; `node`, `nodes`) is tagged
  with what it found (`post:<id>`); one that found nothing by slug with its list
  (`list:posts`: publishing such a post purges it); `node(id:)` names its id either way;
- every other post, page, tag or author an answer can show (in a list, or nested) is
  covered by its list's tag, which every change to one of them purges; so is a found
  author (public only while credited on something public) and every `postCount`;
- the settings, and every `url` (built from the site's URL), depend on `settings`.

The document decides all but the lookups' ids, once per operation; the ids are found as the
answer is made (by the resolvers, or by the compiled statement)."""

from __future__ import annotations

import threading
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLInterfaceType,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)

from service import cache_tags
from service.global_ids import to_global_id

# GraphQL type name -> the kind its tags are named by.
KINDS = {"Post": "post", "Page": "page", "Tag": "tag", "Author": "author"}
# The root fields that find one object by id or slug, and the type each finds.
LOOKUPS = {"post": "Post", "page": "Page", "tag": "Tag", "author": "Author"}
# What an abstract type may stand for.
ABSTRACT = {"Content": ("Post", "Page"), "Node": tuple(KINDS)}


def lookup_tags(type_name: str, id: int | None) -> tuple[str, ...]:
    """What a root lookup of `type_name` found (None: nothing). An author is public only
    while credited on something public, which changes with posts: its list says when."""
    kind = KINDS[type_name]
    if id is None:
        return (f"list:{kind}s",)
    found = f"{kind}:{to_global_id(type_name, id)}"
    return (found, cache_tags.AUTHOR_LIST) if type_name == "Author" else (found,)


_operations: LRUCache[tuple[int, str | None], tuple[DocumentNode, frozenset[str]]] = LRUCache(1000)
_lock = threading.Lock()  # documents are checked on worker threads too


def of_operation(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> frozenset[str]:
    """The tags the document decides: lists and settings it can show. Memoised per parsed
    document (the documents cache hands out the same one for the same text)."""
    key = (id(document), operation.name.value if operation.name else None)
    with _lock:
        cached = _operations.get(key)
    if cached is not None and cached[0] is document:
        return cached[1]
    tags = _walk(schema, document, operation)
    with _lock:
        _operations[key] = (document, tags)
    return tags


def _walk(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> frozenset[str]:
    tags: set[str] = set()
    type_info = TypeInfo(schema)
    query = schema.query_type

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            definition = type_info.get_field_def()
            if parent is None or definition is None:
                return
            name = node.name.value
            if parent is query:
                if name == "settings":
                    tags.add(cache_tags.SETTINGS)
                return  # lookups are tagged by what they find; lists by their items
            named = get_named_type(definition.type)
            kinds = ABSTRACT.get(named.name, (named.name,))
            tags.update(f"list:{KINDS[k]}s" for k in kinds if k in KINDS)
            if name == "url" and (parent.name in KINDS or isinstance(parent, GraphQLInterfaceType)):
                tags.add(cache_tags.SETTINGS)
            if name == "postCount":
                # Changed by posts, which do not name a tag they have just left.
                tags.add("list:posts")

    # The operation and the fragments (a valid document has none it does not use). Each
    # fragment is walked once, however often it is spread: tags are a set.
    definitions = [
        d for d in document.definitions if d is operation or isinstance(d, FragmentDefinitionNode)
    ]
    for definition in definitions:
        visit(definition, TypeInfoVisitor(type_info, Fields()))
    return frozenset(tags)


@dataclass
class Collected:
    """One request's tags, gathered while it runs."""

    document: frozenset[str] | None = None  # None: no operation ran
    found: list[str] = field(default_factory=list)
    private: bool = False  # an answer no shared cache may keep (a preview)

    def tags(self) -> tuple[str, ...] | None:
        if self.document is None or self.private:
            return None
        return tuple(sorted(self.document.union(self.found)))


_collected: ContextVar[Collected | None] = ContextVar("answer_tags", default=None)


def collect() -> tuple[Collected, Token[Collected | None]]:
    """Start gathering the tags of the request being served (the general path's router)."""
    collected = Collected()
    return collected, _collected.set(collected)


def stop(token: Token[Collected | None]) -> None:
    _collected.reset(token)


def note_operation(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> None:
    collected = _collected.get()
    if collected is not None:
        collected.document = of_operation(schema, document, operation)


def private() -> None:
    """The answer being made is for its requester alone (a preview of a draft)."""
    collected = _collected.get()
    if collected is not None:
        collected.private = True


def found(type_name: str, id: int | None) -> None:
    """A root lookup's result (resolvers call this). Nothing outside the tagged kinds."""
    collected = _collected.get()
    if collected is not None and type_name in KINDS:
        collected.found.extend(lookup_tags(type_name, id))

"""The cache tags of an answer: what it depends on, in the names content events purge by
(service/cache_tags.py), so a CDN keeping the answer can drop it when, and only when, one
of them changes. Both read paths tag their answers from this module, so they agree:

- every answer carries `site`, which the rare change that touches everything purges (a
  Ghost import, a deleted staff member whose posts pass to the owner);
- a root lookup (`post`, `page`, `tag`, `author` by id or slug; `node`, `nodes`) is tagged
  with what it found (`post:<id>`); one that found nothing by slug with its list
  (`list:posts`: publishing such a post purges it); `node(id:)` names its id either way;
- everything else a document can show of posts, pages, tags or authors (objects, lists and
  their counts, page info and cursors, nested or not) by its kind's list, which every change
  to one of them purges; so is a found author (public only while credited on something
  public), every `postCount`, and a list filtered by tag or author (a slug or visibility
  change moves posts in or out of it) also by those lists;
- the settings, and every `url` (built from the site's URL), depend on `settings`.

The document decides all but the lookups' ids (of_operation, once per document: the
documents cache keeps the result); the ids are found as the answer is made (by the
resolvers, or by the compiled statement)."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLSchema,
    GraphQLUnionType,
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
# Suffixes of the types that list a kind (PostConnection, PostEdge).
LISTING = ("Connection", "Edge")


def lookup_tags(type_name: str, id: int | None) -> tuple[str, ...]:
    """What a root lookup of `type_name` found (None: nothing). An author is public only
    while credited on something public, which changes with posts: its list says when."""
    kind = KINDS[type_name]
    if id is None:
        return (cache_tags.list_of(kind),)
    found = cache_tags.of_object(kind, to_global_id(type_name, id))
    return (found, cache_tags.AUTHOR_LIST) if type_name == "Author" else (found,)


def of_operation(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> frozenset[str]:
    """The tags the document decides. A walk of the whole document: callers keep the result
    (graphql_schema.documents does, with the parsed document)."""
    tags: set[str] = {cache_tags.SITE}
    type_info = TypeInfo(schema)
    query = schema.query_type

    def kinds(named: GraphQLNamedType) -> list[str]:
        """The kinds a type shows: its own, its items' for a list type, every possible one
        for an abstract type."""
        name = named.name
        for suffix in LISTING:
            name = name.removesuffix(suffix)
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            names = [t.name for t in schema.get_possible_types(named)]
        else:
            names = [name]
        return [KINDS[n] for n in names if n in KINDS]

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            definition = type_info.get_field_def()
            if parent is None or definition is None:
                return
            name = node.name.value
            if parent is query and name in ("post", "page", "tag", "author", "node", "nodes"):
                return  # lookups are tagged by what they find
            if parent is query and name == "settings":
                tags.add(cache_tags.SETTINGS)
            shown = kinds(get_named_type(definition.type))
            tags.update(cache_tags.list_of(kind) for kind in shown)
            if shown and any(arg.name.value == "filter" for arg in node.arguments or ()):
                # Filtered by a tag or an author: their slugs and visibility decide the list.
                tags.update((cache_tags.TAG_LIST, cache_tags.AUTHOR_LIST))
            if name == "url" and kinds(parent):
                tags.add(cache_tags.SETTINGS)
            if name == "postCount":
                # Changed by posts, which do not name a tag they have just left.
                tags.add(cache_tags.list_of("post"))

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
    """Stop gathering (the request was answered)."""
    _collected.reset(token)


def note_operation(tags: frozenset[str]) -> None:
    """The tags the request's document decides (documents.DocumentChecks calls this)."""
    collected = _collected.get()
    if collected is not None:
        collected.document = tags


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

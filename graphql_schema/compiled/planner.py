"""Compile a read-only GraphQL operation into ONE SQL statement (PostgreSQL or SQLite) that
builds the whole `data` object as JSON, the way PostGraphile does.

The statement is made of the repositories' own clauses (visibility scope, filters, keyset
windows, search), so both paths select the same rows; only the shaping of values moves into
SQL (see `json_sql`). A field that shows a column is found through the schema (`is_stored`:
declared once, on its Strawberry type); the others are built here, one method per type.
Anything this planner does not know raises `NotCompilable`, and the general Strawberry path
answers instead: errors, staff-only fields, previews, introspection, abstract types and
orderings whose cursors are not rendered in SQL are all left to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from typing import cast as typing_cast

import orjson
import strawberry
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    OperationDefinitionNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Enum,
    FromClause,
    Integer,
    Select,
    SQLColumnExpression,
    String,
    Text,
    and_,
    bindparam,
    case,
    false,
    func,
    null,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import KeyedColumnElement
from strawberry.types.arguments import convert_arguments

from db import models
from db.base import UTCDateTime, utcnow
from db.models.content_version import CONTENT_VERSION_ROW_ID, ContentVersion
from db.models.site_settings import SETTINGS_ROW_ID
from db.repositories import AuthorRepository, PageArgs, PostRepository, Scope, TagRepository
from db.repositories.filters import PostFilter
from db.repositories.pagination import (
    InvalidCursor,
    InvalidPageArgs,
    SortKey,
    cursor_clauses,
    key_columns,
    order_by,
    page_flags,
)
from db.repositories.posts import Link, sort_keys
from db.repositories.site_settings import default_settings
from graphql_schema.compiled.json_sql import (
    JsonText,
    correlated,
    cursor,
    cursor_supported,
    enum_name,
    global_id,
    iso_datetime,
    json_array,
    json_elements,
    json_object,
    ordered,
    ordered_items,
    sql_integer,
    sql_string,
)
from graphql_schema.ids import decode_id
from graphql_schema.inputs import PostFilter as PostFilterInput
from graphql_schema.inputs import orders
from graphql_schema.types.connections import search_text
from graphql_schema.types.stored import is_stored
from service.policy import ANONYMOUS, read_scope
from service.site_settings import content_url

# The request's instant, bound anew on every execution (a scheduled post turns public on time).
NOW = "now"


# Root lookups by id or slug: the only root fields that may answer null.
LOOKUP_FIELDS = frozenset({"post", "page", "tag", "author"})
ROOT_FIELDS = frozenset(
    {"settings", "post", "page", "tag", "author", "posts", "pages", "authors", "tags"}
)


class NotCompilable(Exception):
    """The general path must answer this document (with these variables)."""


def slug_parameter(variable: str) -> str:
    # Double underscores: SQLAlchemy's own bind names are `<column>_<n>`.
    return f"variable__{variable}"


@dataclass(frozen=True)
class Operation:
    """A parsed, validated query operation and what its variables are used for."""

    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    # Variables bound as SQL parameters (slugs); every other variable is folded into the
    # statement, so the plan is cached per value of those.
    parameters: frozenset[str]
    declared: frozenset[str]  # every variable the operation declares
    tags: frozenset[str]  # the cache tags the document decides (answer_tags)


Fields = dict[str, list[FieldNode]]


class Planner:
    def __init__(
        self,
        schema: strawberry.Schema,
        operation: Operation,
        variables: VariableValues,
        session: AsyncSession,
    ) -> None:
        self.strawberry = schema
        self.schema = schema._schema
        self.operation = operation
        self.variables = variables
        self.session = session
        # A placeholder value (each execution binds the request's clock): SQLAlchemy renders
        # expanding IN lists at compile time and wants a value for every parameter then.
        now = typing_cast(datetime, bindparam(NOW, utcnow(), type_=UTCDateTime()))
        # Anonymous readers only: the compiled path never serves a signed-in caller.
        self.scope: Scope = read_scope(ANONYMOUS, now=now)
        # The root lookups, in order: the type each finds, and the id it found (cache tags).
        self.lookups: list[tuple[str, ColumnElement[Any]]] = []
        # PostgreSQL's planner is steered with LATERAL where SQLite needs none (or has none).
        self.postgresql = session.get_bind().dialect.name == "postgresql"

    # ---------------------------------------------------------------------------------------
    # Selections

    def compile(self) -> Select[Any]:
        """One statement answering: the `data` object as text, the content version it was
        read at, and the id each root lookup found."""
        query_type = self.schema.query_type
        assert query_type is not None
        fields = self.collect(None, query_type)
        columns = [self.root_field(query_type, n).label(key) for key, n in fields.items()]
        found = [id.label(f"found_{i}") for i, (_, id) in enumerate(self.lookups)]
        # OFFSET 0 keeps PostgreSQL from inlining the root fields into both uses below
        # (which would run each of them twice).
        root = select(*columns, *found).offset(sql_integer(0)).subquery()
        # A non-null root field answering null (no settings row yet, with `updatedAt` asked
        # for): NULL, and the general path answers. Otherwise the `data` object, as text.
        present = and_(
            true(),
            *(
                root.c[key].is_not(None)
                for key, nodes in fields.items()
                if nodes[0].name.value not in LOOKUP_FIELDS
            ),
        )
        data = json_object([(key, root.c[key]) for key in fields])
        version = select(ContentVersion.version).where(ContentVersion.id == CONTENT_VERSION_ROW_ID)
        return select(
            case((present, data), else_=null()),
            version.scalar_subquery(),
            *(root.c[f"found_{i}"] for i in range(len(self.lookups))),
        ).select_from(root)

    def collect(self, nodes: Sequence[FieldNode] | None, type_: GraphQLObjectType) -> Fields:
        """The fields selected under `nodes` (the operation's own selection when None) on
        `type_`, by response key: graphql-core's collection, as execution does it (fragments
        merged, each spread once per selection, @skip and @include applied; documents with any
        other directive never reach the planner: plans._operation)."""
        schema, fragments, operation = self.schema, self.operation.fragments, self.operation
        if nodes is None:
            collected = collect_fields(
                schema, fragments, self.variables, type_, operation.operation
            )
        else:
            details = [FieldDetails(node, None) for node in nodes]
            collected = collect_subfields(
                schema, fragments, self.variables, operation.operation, type_, details
            )
        return {
            key: [field.node for field in fields]
            for key, fields in collected.grouped_field_set.items()
        }

    def arguments(self, parent: GraphQLObjectType, node: FieldNode) -> dict[str, Any]:
        """The field's arguments as its resolver receives them (Strawberry input objects)."""
        for argument in node.arguments or ():
            value = argument.value
            if (
                isinstance(value, VariableNode)
                and value.name.value in self.operation.parameters
                and argument.name.value != "slug"
            ):
                raise NotCompilable("a parameter variable used as a plan-shaping argument")
        definition = parent.fields[node.name.value]
        try:
            raw = get_argument_values(definition, node, self.variables)
        except GraphQLError as error:
            raise NotCompilable("invalid arguments") from error
        field = definition.extensions["strawberry-definition"]
        return convert_arguments(
            raw,
            field.arguments,
            scalar_registry=self.strawberry.schema_converter.scalar_registry,
            config=self.strawberry.config,
        )

    def slug(self, node: FieldNode, given: str | None) -> ColumnElement[str] | str | None:
        """A slug argument: a SQL parameter when it comes from a parameter variable."""
        for argument in node.arguments or ():
            value = argument.value
            if argument.name.value == "slug" and isinstance(value, VariableNode):
                name = value.name.value
                if name in self.operation.parameters:
                    return bindparam(slug_parameter(name), "", type_=models.Post.slug.type)
        return given

    def subfields(self, nodes: list[FieldNode], parent: GraphQLObjectType) -> Fields:
        field = parent.fields[nodes[0].name.value]
        type_ = get_named_type(field.type)
        if not isinstance(type_, GraphQLObjectType):
            raise NotCompilable("abstract type")
        return self.collect(nodes, type_)

    def type_of(self, parent: GraphQLObjectType, nodes: list[FieldNode]) -> GraphQLObjectType:
        type_ = get_named_type(parent.fields[nodes[0].name.value].type)
        if not isinstance(type_, GraphQLObjectType):
            raise NotCompilable("abstract type")
        return type_

    # ---------------------------------------------------------------------------------------
    # Root fields

    def root_field(self, query: GraphQLObjectType, nodes: list[FieldNode]) -> ColumnElement[Any]:
        name = nodes[0].name.value
        if name == "__typename":
            return sql_string(query.name)
        if name not in ROOT_FIELDS:
            raise NotCompilable(f"root field {name}")
        if name == "settings":
            return self.settings(self.subfields(nodes, query))
        args = self.arguments(query, nodes[0])
        type_ = self.type_of(query, nodes)
        if name in ("post", "page"):
            if args["preview_token"] is not None:
                raise NotCompilable("preview")
            repository = PostRepository(self.session, self.scope, type=_content_type(name))
            stmt = self.lookup(repository.visible(), models.Post, type_.name, nodes[0], args)
            return self.single(stmt, type_, nodes, self.content)
        if name == "tag":
            stmt = self.lookup(
                TagRepository(self.session, self.scope).visible(), models.Tag, "Tag", nodes[0], args
            )
            return self.single(stmt, type_, nodes, self.tag)
        if name == "author":
            stmt = self.lookup(
                AuthorRepository(self.session, self.scope).visible(),
                models.User,
                "Author",
                nodes[0],
                args,
            )
            return self.single(stmt, type_, nodes, self.author)
        if name in ("posts", "pages"):
            repository = PostRepository(self.session, self.scope, type=_content_type(name))
            post_filter = _to_filter(args["filter"], "Post" if name == "posts" else "Page")
            order = orders(args["order_by"])
            stmt, keys = repository.listing(post_filter, search_text(args["search"]), order)
            return self.connection(
                stmt, keys, _page_args(args), type_, nodes, self.content
            ).scalar_subquery()
        if name in ("authors", "tags"):
            repo: Any = (
                AuthorRepository(self.session, self.scope)
                if name == "authors"
                else TagRepository(self.session, self.scope)
            )
            db_filter = None if args["filter"] is None else args["filter"].to_filter()
            order = orders(args["order_by"])
            stmt = repo.visible().where(repo.filter_clause(db_filter))
            build = self.author if name == "authors" else self.tag
            return self.connection(
                stmt, repo.sort_keys(order), _page_args(args), type_, nodes, build
            ).scalar_subquery()
        raise NotCompilable(f"root field {name}")

    def lookup(
        self, stmt: Select[Any], entity: Any, type_name: str, node: FieldNode, args: dict[str, Any]
    ) -> Select[Any]:
        if (args["id"] is None) == (args["slug"] is None):
            raise NotCompilable("needs exactly one of id and slug")
        if args["id"] is not None:
            try:
                return stmt.where(entity.id == decode_id(args["id"], type_name))
            except GraphQLError as error:
                raise NotCompilable("bad id") from error
        return stmt.where(entity.slug == self.slug(node, args["slug"]))

    def single(
        self,
        stmt: Select[Any],
        type_: GraphQLObjectType,
        nodes: list[FieldNode],
        build: Callable[[str, Fields, FromClause], ColumnElement[Any]],
    ) -> ColumnElement[Any]:
        row = stmt.subquery()
        fields = self.collect(nodes, type_)
        found = select(row.c.id).select_from(row).correlate(None).scalar_subquery()
        self.lookups.append((type_.name, found))
        return (
            select(build(type_.name, fields, row))
            .select_from(row)
            .correlate(None)
            .scalar_subquery()
        )

    # ---------------------------------------------------------------------------------------
    # Connections

    def connection(
        self,
        stmt: Select[Any],
        keys: list[SortKey],
        args: PageArgs,
        type_: GraphQLObjectType,
        nodes: list[FieldNode],
        build: Callable[[str, Fields, FromClause], ColumnElement[Any]],
        *,
        outer: FromClause | None = None,
        count: ColumnElement[int] | None = None,
    ) -> Select[Any]:
        """A Relay connection over `stmt`: the keyset page (one extra row says whether more
        follow) becomes nodes/edges/pageInfo; totalCount counts `stmt` without the window."""
        try:
            window = cursor_clauses(keys, args)
        except InvalidCursor as error:
            raise NotCompilable("bad cursor") from error
        if self.postgresql:
            fetch = stmt.add_columns(*key_columns(keys))
        else:
            # SQLite copies every column a subquery carries (bodies too), where it reads a
            # stored row's columns only when asked for: the page carries the ids, and each
            # node's fields are read from its row (`source`, below).
            fetch = stmt.with_only_columns(stmt.selected_columns.id, *key_columns(keys))
        fetch = (
            fetch.where(*window)
            .order_by(*order_by(keys, reverse=args.backwards))
            .limit(sql_integer(args.size + 1))  # written in: PostgreSQL plans by it
        )
        if outer is not None:
            fetched = correlated(fetch, outer, lateral=self.postgresql)
        else:
            fetched = fetch.subquery()
        # Each row's place in the fetch, numbered over the fetched rows' own key columns
        # (SQLite's search rank may not stand in a window), and the rows in their natural
        # order (reversed when fetched backwards), as the aggregates below list them.
        fetched_keys = [
            replace(key, expression=fetched.c[f"_sort_{index}"]) for index, key in enumerate(keys)
        ]
        position = func.row_number().over(order_by=order_by(fetched_keys, reverse=args.backwards))
        page_columns: list[Any] = [fetched, position.label("_position")]
        # The cursor at the page's far end (the last row counted from the cursor's side)
        # needs the number of rows fetched; a window over all of them, so only when asked.
        far_cursor = "startCursor" if args.backwards else "endCursor"
        if far_cursor in self._page_info_fields(nodes, type_):
            page_columns.append(func.count().over().label("_fetched"))
        page = ordered(select(*page_columns), position.desc() if args.backwards else position.asc())
        if self.postgresql:
            source: FromClause = page
            rows: FromClause = page
        else:
            table = stmt.selected_columns.id.table
            source = table.alias()
            rows = page.join(source, source.c.id == page.c.id)
        entity = get_named_type(type_.fields["nodes"].type)
        assert isinstance(entity, GraphQLObjectType)
        on_page = page.c._position <= args.size
        natural = page.c._position.desc() if args.backwards else page.c._position.asc()
        more = func.count() > args.size

        def far_end() -> ColumnElement[int]:
            """The position of the page's last row, counted from the cursor's side."""
            fetched_count = page.c._fetched
            return case((fetched_count > args.size, args.size), else_=fetched_count)

        def edge_cursor() -> ColumnElement[str]:
            if not cursor_supported(keys):
                raise NotCompilable("cursor of a text or float ordering")
            return cursor(keys, [page.c[f"_sort_{i}"] for i in range(len(keys))])

        # The page is aggregated once (nodes, edges, cursors, whether more follow) into
        # `summary`, one row; the connection's object is then built over that row. Each value
        # is an expression needing no aggregate, or one over `summary`.
        Value = ColumnElement[Any] | Callable[[FromClause], ColumnElement[Any]]
        aggregates: list[ColumnElement[Any]] = []

        def aggregated(value: ColumnElement[Any]) -> str:
            aggregates.append(value.label(f"_{len(aggregates)}"))
            return f"_{len(aggregates) - 1}"

        def summarised(
            label: str, over: Callable[[Any], ColumnElement[Any]] | None = None
        ) -> Value:
            if over is None:
                return lambda summary: summary.c[label]
            return lambda summary: over(summary.c[label])

        def listed(value: ColumnElement[Any]) -> Value:
            return summarised(aggregated(json_array(ordered_items(value, natural).filter(on_page))))

        @functools.cache
        def empty() -> str:  # once, for both ends
            return aggregated(func.count().filter(on_page) == 0)

        def boundary_cursor(name: str) -> Value:
            """startCursor or endCursor: the cursor of the page's row farthest from the cursor
            it was fetched from (`far_cursor`) or nearest (position 1), its sort values picked
            by aggregates and encoded once (not every row's, as edges need)."""
            if not cursor_supported(keys):
                raise NotCompilable("cursor of a text or float ordering")
            at = far_end() if name == far_cursor else 1
            labels = [
                aggregated(func.max(case((page.c._position == at, page.c[f"_sort_{i}"]))))
                for i in range(len(keys))
            ]
            none_on_page = empty()
            return lambda summary: case(
                (summary.c[none_on_page], null()),
                else_=cursor(keys, [summary.c[label] for label in labels]),
            )

        pairs: list[tuple[str, Value | list[tuple[str, Value]]]] = []
        for key, fields in self.collect(nodes, type_).items():
            name = fields[0].name.value
            if name == "__typename":
                pairs.append((key, sql_string(type_.name)))
            elif name == "nodes":
                node_fields = self.collect(fields, entity)
                pairs.append((key, listed(build(entity.name, node_fields, source))))
            elif name == "edges":
                edge_type = get_named_type(type_.fields["edges"].type)
                assert isinstance(edge_type, GraphQLObjectType)
                edge_pairs = []
                for edge_key, edge_fields in self.collect(fields, edge_type).items():
                    edge_name = edge_fields[0].name.value
                    if edge_name == "__typename":
                        edge_pairs.append((edge_key, sql_string(edge_type.name)))
                    elif edge_name == "cursor":
                        edge_pairs.append((edge_key, edge_cursor()))
                    else:
                        node_fields = self.collect(edge_fields, entity)
                        edge_pairs.append((edge_key, build(entity.name, node_fields, source)))
                pairs.append((key, listed(json_object(edge_pairs))))
            elif name == "pageInfo":
                info_type = get_named_type(type_.fields["pageInfo"].type)
                assert isinstance(info_type, GraphQLObjectType)
                info_pairs: list[tuple[str, Value]] = []
                flags = dict(
                    zip(("hasNextPage", "hasPreviousPage"), page_flags(args, more), strict=True)
                )
                for info_key, info_fields in self.collect(fields, info_type).items():
                    info_name = info_fields[0].name.value
                    if info_name == "__typename":
                        info_pairs.append((info_key, sql_string(info_type.name)))
                    elif info_name in flags:
                        flag = flags[info_name]
                        info_pairs.append(
                            (
                                info_key,
                                _boolean(flag)
                                if isinstance(flag, bool)
                                else summarised(aggregated(flag)),
                            )
                        )
                    elif info_name in ("startCursor", "endCursor"):
                        info_pairs.append((info_key, boundary_cursor(info_name)))
                    else:
                        raise NotCompilable(f"PageInfo.{info_name}")
                pairs.append((key, info_pairs))
            elif name == "totalCount":
                pairs.append((key, count if count is not None else _count(stmt)))
            else:
                raise NotCompilable(f"connection field {name}")
        # Always an aggregate, so `summary` is exactly one row even for an empty page.
        aggregation = select(*aggregates or [func.count().label("_")]).select_from(rows)
        if outer is not None:
            summary = correlated(aggregation, outer, lateral=self.postgresql)
        else:
            summary = aggregation.subquery()

        def value(pair_value: Value) -> ColumnElement[Any]:
            return pair_value if isinstance(pair_value, ColumnElement) else pair_value(summary)

        built = [
            (
                key,
                json_object([(k, value(v)) for k, v in pair_value])
                if isinstance(pair_value, list)
                else value(pair_value),
            )
            for key, pair_value in pairs
        ]
        result = select(json_object(built)).select_from(summary)
        return result.correlate(outer) if outer is not None else result.correlate(None)

    def _page_info_fields(self, nodes: list[FieldNode], type_: GraphQLObjectType) -> set[str]:
        """The fields selected under a connection's pageInfo."""
        info_type = get_named_type(type_.fields["pageInfo"].type)
        assert isinstance(info_type, GraphQLObjectType)
        return {
            info_fields[0].name.value
            for fields in self.collect(nodes, type_).values()
            if fields[0].name.value == "pageInfo"
            for info_fields in self.collect(fields, info_type).values()
        }

    def nested_posts(
        self,
        link: Link,
        parent: FromClause,
        type_: GraphQLObjectType,
        nodes: list[FieldNode],
        args: dict[str, Any],
    ) -> ColumnElement[Any]:
        """Tag.posts / Author.posts: the parent's page of visible posts, newest first."""
        repository = PostRepository(self.session, self.scope)
        linked, parent_id = repository.linked(link, _to_filter(args["filter"], None))
        linked = linked.where(parent_id == parent.c.id)
        counted = linked.with_only_columns(func.count()).correlate(parent).scalar_subquery()
        page_args = _page_args({"first": args["first"], "after": args["after"]})
        keys = sort_keys(orders(args["order_by"]))
        return self.connection(
            linked, keys, page_args, type_, nodes, self.content, outer=parent, count=counted
        ).scalar_subquery()

    def post_count(self, link: Link, parent: FromClause) -> ColumnElement[int]:
        linked, parent_id = PostRepository(self.session, self.scope).linked(link, None)
        return (
            linked.with_only_columns(func.count())
            .where(parent_id == parent.c.id)
            .correlate(parent)
            .scalar_subquery()
        )

    # ---------------------------------------------------------------------------------------
    # Objects

    def content(self, type_name: str, fields: Fields, source: FromClause) -> ColumnElement[Any]:
        c = source.c
        graphql_type = self.schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType)
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            value: ColumnElement[Any]
            plain = _plain_field(graphql_type, name, c)
            if plain is not None:
                value = plain
            elif name == "status":
                status = aliased(models.Post, source).status_at(self.scope.now)
                value = enum_name(status, models.PostStatus)
            elif name in ("markdown", "revisions"):
                value = null()  # staff only; the compiled path serves anonymous readers
            elif name == "url":
                value = content_url(_site_url(), c.slug)
            elif name in ("authors", "primaryAuthor"):
                value = self.authors_of(source, nodes, graphql_type, primary=name != "authors")
            elif name in ("tags", "primaryTag"):
                value = self.tags_of(source, nodes, graphql_type, primary=name != "tags")
            else:
                raise NotCompilable(f"{type_name}.{name}")
            pairs.append((key, value))
        return json_object(pairs)

    def authors_of(
        self,
        post: FromClause,
        nodes: list[FieldNode],
        parent: GraphQLObjectType,
        *,
        primary: bool,
    ) -> ColumnElement[Any]:
        # Authors of a post the caller sees are visible (as PostRepository.authors_of).
        users = models.User.__table__
        return self.linked(
            post, models.PostAuthor, users, models.PostAuthor.author_id, "Author",
            self.subfields(nodes, parent), visible=true(), primary=primary,
        )  # fmt: skip

    def tags_of(
        self,
        post: FromClause,
        nodes: list[FieldNode],
        parent: GraphQLObjectType,
        *,
        primary: bool,
    ) -> ColumnElement[Any]:
        tags = models.Tag.__table__
        return self.linked(
            post, models.PostTag, tags, models.PostTag.tag_id, "Tag",
            self.subfields(nodes, parent), visible=self.scope.tags, primary=primary,
        )  # fmt: skip

    def linked(
        self,
        post: FromClause,
        link: Link,
        target: Any,
        target_id: SQLColumnExpression[int],
        type_name: str,
        fields: Fields,
        *,
        visible: ColumnElement[bool],
        primary: bool,
    ) -> ColumnElement[Any]:
        """A post's authors or tags in order (or the first, when visible)."""
        item = self.grouping(type_name, link, fields, target)
        if self.postgresql:
            # Each fetched by its primary key: as a plain join, PostgreSQL's default costs
            # choose a hash join that reads the whole tags table once per post. OFFSET 0
            # keeps the lookup from being flattened back into that join.
            found = (
                select(item.label("item"), visible.label("visible"))
                .where(target.c.id == target_id)
                .offset(sql_integer(0))
                .lateral()
            )
            stmt = select(link).join(found, true())
            item, visible = found.c.item, found.c.visible
        else:
            stmt = select(link).join(target, target.c.id == target_id)
        stmt = stmt.where(link.post_id == post.c.id).correlate(post)
        if primary:
            shown = case((visible, item), else_=null())
            first = stmt.with_only_columns(shown).order_by(link.sort_order).limit(sql_integer(1))
            return first.scalar_subquery()
        rows = ordered(
            stmt.with_only_columns(item.label("item"), link.sort_order).where(visible),
            link.sort_order,
        )
        listed = json_array(ordered_items(rows.c.item, rows.c.sort_order))
        return select(listed).select_from(rows).correlate(post).scalar_subquery()

    def author(self, type_name: str, fields: Fields, source: FromClause) -> ColumnElement[Any]:
        return self.grouping("Author", models.PostAuthor, fields, source)

    def tag(self, type_name: str, fields: Fields, source: FromClause) -> ColumnElement[Any]:
        return self.grouping("Tag", models.PostTag, fields, source)

    def grouping(
        self,
        type_name: str,
        link: Link,
        fields: Fields,
        source: FromClause,
    ) -> ColumnElement[Any]:
        """An Author or a Tag: its own columns, and the posts it groups."""
        c = source.c
        graphql_type = self.schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType)
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            value: ColumnElement[Any]
            plain = _plain_field(graphql_type, name, c)
            if plain is not None:
                value = plain
            elif name == "postCount":
                value = self.post_count(link, source)
            elif name == "posts":
                args = self.arguments(graphql_type, nodes[0])
                connection_type = self.type_of(graphql_type, nodes)
                value = self.nested_posts(link, source, connection_type, nodes, args)
            else:
                raise NotCompilable(f"{type_name}.{name}")
            pairs.append((key, value))
        return json_object(pairs)

    def settings(self, fields: Fields) -> ColumnElement[Any]:
        """The settings row, or the defaults the general path reads while none is stored (as
        the JSON the general path writes for them). With `updatedAt` selected there is no
        such constant (the general path answers "now"): null then, and the caller falls back."""
        table = models.SiteSettings.__table__
        settings_type = self.schema.get_type("Settings")
        assert isinstance(settings_type, GraphQLObjectType)
        defaults = default_settings()
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        unsaved: dict[str, Any] | None = {}
        for key, nodes in fields.items():
            name = nodes[0].name.value
            field = None if name == "__typename" else settings_type.fields[name]
            column = None if field is None else table.c[_stored_name(field, table)]
            if column is None:
                pairs.append((key, sql_string("Settings")))
                default: Any = "Settings"
            elif isinstance(column.type, JSON):  # a list of navigation items
                items = self.collect(nodes, self.type_of(settings_type, nodes))
                pairs.append((key, _navigation(column, items, postgresql=self.postgresql)))
                if getattr(defaults, column.key):
                    raise NotCompilable("default navigation items")  # only [] is written here
                default = []
            else:
                pairs.append((key, _stored(column)))
                default = getattr(defaults, column.key)
                if column.key == "updated_at":
                    unsaved = None
            if unsaved is not None:
                unsaved[key] = default
        stored = (
            select(json_object(pairs))
            .where(table.c.id == SETTINGS_ROW_ID)
            .correlate(None)
            .scalar_subquery()
        )
        if unsaved is None:
            return stored
        return func.coalesce(stored, sql_string(orjson.dumps(unsaved).decode()), type_=JsonText)


def _plain_field(
    type_: GraphQLObjectType,
    name: str,
    c: ReadOnlyColumnCollection[str, KeyedColumnElement[Any]],
) -> ColumnElement[Any] | None:
    """A field read straight off the row (its type name, its id, a stored field: see
    types.stored), or None for the fields each type builds its own way."""
    if name == "__typename":
        return sql_string(type_.name)
    if name == "id":
        return global_id(type_.name, c.id)
    field = type_.fields[name].extensions["strawberry-definition"]
    if not is_stored(field):
        return None
    if field.python_name not in c:
        raise NotCompilable(f"no column {field.python_name} for {type_.name}.{name}")
    return _stored(c[field.python_name])


def _stored_name(field: GraphQLField, table: FromClause) -> str:
    """The column a stored field shows; NotCompilable for any other field."""
    definition = field.extensions["strawberry-definition"]
    if not is_stored(definition) or definition.python_name not in table.c:
        raise NotCompilable(f"the field {definition.python_name} shows no column")
    return str(definition.python_name)


def _stored(column: KeyedColumnElement[Any]) -> ColumnElement[Any]:
    """A stored column's value as the general path writes it, for the column types whose
    rendering json_sql knows; any other (a JSON list, a float, a date) is left to the general
    path rather than written some other way."""
    if isinstance(column.type, UTCDateTime):
        return iso_datetime(column)
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        return enum_name(column, column.type.enum_class)
    if isinstance(column.type, String | Integer | Boolean) and not isinstance(column.type, Enum):
        return column
    raise NotCompilable(f"the column {column.key} of type {column.type!r}")


def _content_type(name: str) -> models.PostType:
    return models.PostType.POST if name in ("post", "posts") else models.PostType.PAGE


def _to_filter(post_filter: PostFilterInput | None, type_name: str | None) -> PostFilter | None:
    if post_filter is None:
        return None
    return post_filter.to_filter(type_name) if type_name else post_filter.to_filter()


def _page_args(args: Mapping[str, Any]) -> PageArgs:
    try:
        return PageArgs(
            first=args.get("first"),
            after=args.get("after"),
            last=args.get("last"),
            before=args.get("before"),
        )
    except InvalidPageArgs as error:
        raise NotCompilable("bad page arguments") from error


def _boolean(value: bool) -> ColumnElement[bool]:
    return true() if value else false()


def _count(stmt: Select[Any]) -> ColumnElement[int]:
    return select(func.count()).select_from(stmt.subquery()).correlate(None).scalar_subquery()


def _site_url() -> ColumnElement[str]:
    table = models.SiteSettings.__table__
    stored = select(table.c.url).where(table.c.id == SETTINGS_ROW_ID).scalar_subquery()
    return func.coalesce(stored, sql_string(default_settings().url))


def _navigation(
    column: ColumnElement[Any], items: Fields, *, postgresql: bool
) -> ColumnElement[Any]:
    """Stored [{label, url}, …] rebuilt with the selected keys, in order."""
    elements, ordinal = json_elements(column, postgresql=postgresql)
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, nodes in items.items():
        name = nodes[0].name.value
        if name == "__typename":
            pairs.append((key, sql_string("NavigationItem")))
        elif name in ("label", "url"):
            pairs.append((key, elements.c.value.op("->>", return_type=Text)(sql_string(name))))
        else:
            raise NotCompilable(f"NavigationItem.{name}")
    array = json_array(ordered_items(json_object(pairs), ordinal))
    return select(array).select_from(elements).scalar_subquery()

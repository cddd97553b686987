"""Media through HTTP, as an editor's app and a frontend use it: the GraphQL multipart upload,
the stored file (upright, without metadata, stored once), preset sizes made on first request
and served immutable with ETags and ranges, the library, and bad input refused with nothing
stored. Each test runs on both storage backends: a local directory, and an S3 bucket on a real
S3-protocol server (tests/s3.py)."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from botocore.exceptions import ClientError
from PIL import Image
from sqlalchemy import func, select

from db import models
from db.engine import Database
from graphql_schema.ids import to_global_id
from service.media.s3 import S3Storage
from service.settings import Settings
from tests import s3
from tests.conftest import make_settings
from tests.factories import create_post
from tests.helpers import graphql_data

UPLOAD = """mutation($input: UploadMediaInput!) {
  uploadMedia(input: $input) {
    media { id url filename mimeType bytes width height alt caption
            sizes { name width format url } srcset(format: WEBP) }
    userErrors { code message field } } }"""


def jpeg(width: int = 1200, height: int = 800, *, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    image.paste((20, 20, 200), (0, 0, width // 2, height // 4))  # a blue corner: orientation
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0), 1: "N"}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 128)).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming `width`x`height` with almost no data: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    filename: str = "photo.jpg",
    **fields: Any,
) -> httpx.Response:
    """The GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec)."""
    operations = {"query": UPLOAD, "variables": {"input": {"file": None, **fields}}}
    return await client.post(
        "/graphql",
        data={
            "operations": orjson.dumps(operations).decode(),
            "map": '{"0": ["variables.input.file"]}',
        },
        files={"0": (filename, data, "application/octet-stream")},
        headers=headers,
    )


async def uploaded(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    filename: str = "photo.jpg",
    **fields: Any,
) -> dict[str, Any]:
    response = await upload(client, headers, data, filename, **fields)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["uploadMedia"]
    assert payload["userErrors"] == [], payload
    return dict(payload["media"])


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[s3.S3Server]:
    with s3.running_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The settings choosing a backend: each test runs on both."""
    local = {"media_dir": tmp_path / "media"}
    if request.param == "local":
        return local
    # Started by the first test that needs it; a bucket of its own per test.
    server: s3.S3Server = request.getfixturevalue("s3_server")
    return {**local, **server.settings(server.new_bucket())}


@pytest.fixture
def settings(
    database_url: str, storage: dict[str, Any], request: pytest.FixtureRequest
) -> Settings:
    """conftest's settings on this run's backend (changed as there, with an indirect
    parametrization)."""
    return make_settings(database_url, **storage, **getattr(request, "param", {}))


def stored_files(settings: Settings) -> list[str]:
    """The names in storage (under the media directory, or the bucket's prefix), in order."""
    root = settings.resolved_media_dir()
    on_disk = (
        sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
        if root.exists()
        else []
    )
    if not settings.media_s3_bucket:
        return on_disk
    assert on_disk == []  # on S3, nothing is written locally
    assert settings.media_s3_endpoint_url
    keys = s3.keys(settings.media_s3_endpoint_url, settings.media_s3_bucket)
    prefix = f"{settings.media_s3_prefix}/"
    assert all(key.startswith(prefix) for key in keys), keys
    return [key.removeprefix(prefix) for key in keys]


async def media_rows(db: Database) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Media)) or 0)


@pytest.fixture
async def editor(as_staff: Any) -> dict[str, str]:
    _, headers = await as_staff(models.Role.EDITOR)
    return dict(headers)


async def test_an_upload_is_stored_upright_without_metadata_and_served_immutable(
    client: httpx.AsyncClient, editor: dict[str, str], settings: Settings
) -> None:
    media = await uploaded(client, editor, jpeg(orientation=6), alt="A red field", caption="Dusk")
    # Orientation 6: the camera was turned; upright, the image is taller than wide.
    assert (media["width"], media["height"]) == (800, 1200)
    assert media["mimeType"] == "image/jpeg"
    assert media["filename"] == "photo.jpg"
    assert (media["alt"], media["caption"]) == ("A red field", "Dusk")
    assert media["url"].startswith("http://testserver/media/")
    path = media["url"].removeprefix("http://testserver")
    served = await client.get(path)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert int(served.headers["content-length"]) == media["bytes"] == len(served.content)
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (800, 1200)
        assert dict(image.getexif()) == {}  # no orientation, no camera, no GPS
        pixel = image.getpixel((790, 10))
        assert isinstance(pixel, tuple)
        assert pixel[2] > 150  # the blue corner turned to the top right
    etag = served.headers["etag"]
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert "content-length" not in again.headers  # not the 200's length: none
    part = await client.get(path, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == served.content[:10]
    assert part.headers["content-range"] == f"bytes 0-9/{len(served.content)}"
    tail = await client.get(path, headers={"Range": "bytes=-4"})
    assert tail.content == served.content[-4:]
    beyond = await client.get(path, headers={"Range": f"bytes={len(served.content)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(served.content)}"
    stale = await client.get(path, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (stale.status_code, stale.content) == (200, served.content)  # changed: all of it
    head = await client.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == served.headers["content-length"]
    assert head.headers["etag"] == etag
    refused = await client.post(path, content=b"x")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"
    assert len(stored_files(settings)) == 1


async def test_sizes_are_made_on_first_request_and_kept(
    client: httpx.AsyncClient, editor: dict[str, str], settings: Settings
) -> None:
    media = await uploaded(client, editor, jpeg(1200, 800))
    names = {(size["name"], size["format"]) for size in media["sizes"]}
    # Narrower than the image only (1200 wide: no w2000, never scaled up), and the crop.
    assert ("w1000", "WEBP") in names
    assert ("w2000", "ORIGINAL") not in names
    assert ("square300", "AVIF") in names
    by_name = {(s["name"], s["format"]): s["url"] for s in media["sizes"]}
    base = media["url"].rsplit(".", 1)[0]
    assert media["srcset"] == (
        f"{base}/w300.webp 300w, {base}/w600.webp 600w, {base}/w1000.webp 1000w, "
        f"{base}/w2000.webp 1200w"
    )
    for (name, format), width, height in [
        (("w600", "WEBP"), 600, 400),
        (("w300", "AVIF"), 300, 200),
        (("square300", "ORIGINAL"), 300, 300),
    ]:
        response = await client.get(by_name[(name, format)].removeprefix("http://testserver"))
        assert response.status_code == 200, (name, format)
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.size == (width, height)
            assert image.format == {"WEBP": "WEBP", "AVIF": "AVIF", "ORIGINAL": "JPEG"}[format]
    assert len(stored_files(settings)) == 4  # the original and the three sizes asked for
    sha = media["url"].rsplit("/", 1)[1].split(".")[0]
    for path in [
        f"/media/{sha}/w640.webp",  # not a preset
        f"/media/{sha}/w600.bmp",
        f"/media/{sha}/../../etc/passwd",
        "/media/../broadsheet.secret",
        f"/media/{sha}.png",  # the original is a JPEG
        f"/media/{'0' * 64}/w300.webp",  # never uploaded
    ]:
        assert (await client.get(path)).status_code == 404, path


async def test_the_same_bytes_are_stored_once(
    client: httpx.AsyncClient, editor: dict[str, str], settings: Settings, db: Database
) -> None:
    data = png()
    first = await uploaded(client, editor, data, "a.png")
    second = await uploaded(client, editor, data, "b.png")
    assert first["id"] == second["id"]
    assert await media_rows(db) == 1
    assert len(stored_files(settings)) == 1


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "empty.jpg", "REQUIRED"),
        (jpeg()[:600], "truncated.jpg", "INVALID"),
        (png(), "actually-a-png.jpg", "INVALID"),
        (png_header_only(10_000, 10_000), "bomb.png", "TOO_LONG"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "x.svg",
            "INVALID",
        ),
        (b"GIF89a<script>alert(1)</script>", "polyglot.gif", "INVALID"),
        (png(), "../../etc/passwd.png", "INVALID"),
        (png(), "evil\u202egnp.png", "INVALID"),
        (png(), "noextension", "INVALID"),
    ],
    ids=[
        "empty",
        "truncated",
        "wrong-extension",
        "100-megapixels",
        "svg",
        "polyglot",
        "path",
        "bidi",
        "no-extension",
    ],
)
async def test_bad_files_are_refused_with_nothing_stored(
    client: httpx.AsyncClient,
    editor: dict[str, str],
    settings: Settings,
    db: Database,
    data: bytes,
    filename: str,
    code: str,
) -> None:
    response = await upload(client, editor, data, filename)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["uploadMedia"]
    assert payload["media"] is None
    [error] = payload["userErrors"]
    assert error["code"] == code, error
    assert error["field"] == ["input", "file"]
    assert await media_rows(db) == 0
    assert stored_files(settings) == []


async def test_a_file_in_json_variables_is_refused(
    client: httpx.AsyncClient, editor: dict[str, str], db: Database
) -> None:
    sent = await graphql_data(client, UPLOAD, {"input": {"file": "aGVsbG8="}}, headers=editor)
    [error] = sent["uploadMedia"]["userErrors"]
    assert error["code"] == "INVALID"
    assert "multipart" in error["message"]
    assert await media_rows(db) == 0


async def test_a_polyglot_keeps_only_its_image(
    client: httpx.AsyncClient, editor: dict[str, str]
) -> None:
    """A JPEG with an HTML page after its end: stored re-encoded, the page gone."""
    tail = b"<html><script>alert(document.cookie)</script></html>"
    media = await uploaded(client, editor, jpeg() + tail)
    served = await client.get(media["url"].removeprefix("http://testserver"))
    assert b"<script>" not in served.content
    assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("settings", [{"media_max_bytes": 50_000}], indirect=True)
async def test_uploads_need_staff_credentials_and_a_bounded_body(
    client: httpx.AsyncClient, editor: dict[str, str], db: Database
) -> None:
    # No credentials: a form a page on another site could post is refused before parsing.
    anonymous = await upload(client, {}, png())
    assert anonymous.status_code == 400
    assert "Authorization" in anonymous.json()["errors"][0]["message"]
    # Too big: refused by its Content-Length, before it is read.
    big = await upload(client, editor, jpeg(2000, 2000) + b"\0" * 60_000)
    assert big.status_code == 413
    # Multipart elsewhere than an upload: JSON only, as before.
    form = await client.post("/graphql", data={"query": "{ settings { title } }"})
    assert form.status_code == 415
    assert await media_rows(db) == 0


async def test_the_library_describe_and_delete(
    client: httpx.AsyncClient,
    editor: dict[str, str],
    as_staff: Any,
    db: Database,
    settings: Settings,
) -> None:
    photo = await uploaded(client, editor, jpeg(), "harbour-at-dusk.jpg", alt="Boats")
    icon = await uploaded(client, editor, png(), "icon.png")
    library = """query($filter: MediaFilter) { media(first: 10, filter: $filter) {
        totalCount nodes { id filename } } }"""
    everything = (await graphql_data(client, library, headers=editor))["media"]
    assert [n["filename"] for n in everything["nodes"]] == ["icon.png", "harbour-at-dusk.jpg"]
    found = await graphql_data(client, library, {"filter": {"search": "DUSK"}}, headers=editor)
    assert [n["id"] for n in found["media"]["nodes"]] == [photo["id"]]
    pngs = await graphql_data(
        client, library, {"filter": {"mimeType": "image/png"}}, headers=editor
    )
    assert [n["id"] for n in pngs["media"]["nodes"]] == [icon["id"]]
    ordered = """query($order: [MediaOrder!], $after: String) {
        media(first: 1, after: $after, orderBy: $order) {
          nodes { filename } pageInfo { endCursor } } }"""
    for order, names in [
        ({"field": "CREATED_AT", "direction": "ASC"}, ["harbour-at-dusk.jpg", "icon.png"]),
        ({"field": "FILENAME", "direction": "ASC"}, ["harbour-at-dusk.jpg", "icon.png"]),
        ({"field": "FILENAME", "direction": "DESC"}, ["icon.png", "harbour-at-dusk.jpg"]),
    ]:
        seen, after = [], None
        for _ in names:  # a page at a time: the cursor follows the order
            page = await graphql_data(
                client, ordered, {"order": [order], "after": after}, headers=editor
            )
            seen += [n["filename"] for n in page["media"]["nodes"]]
            after = page["media"]["pageInfo"]["endCursor"]
        assert seen == names, order
    other_order = await client.post(
        "/graphql",
        json={"query": ordered, "variables": {"order": [], "after": after}},
        headers=editor,
    )
    assert other_order.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    anonymous = await client.post("/graphql", json={"query": library})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    changed = await graphql_data(
        client,
        """mutation($id: ID!) { updateMedia(input: {id: $id, caption: "Evening",
             focalPoint: {x: 0.2, y: 0.7}}) { media { caption alt focalX focalY } userErrors { code } } }""",
        {"id": photo["id"]},
        headers=editor,
    )
    assert changed["updateMedia"]["media"] == {
        "caption": "Evening",
        "alt": "Boats",
        "focalX": 0.2,
        "focalY": 0.7,
    }
    outside = await graphql_data(
        client,
        """mutation($id: ID!) { updateMedia(input: {id: $id, focalPoint: {x: 2, y: 0}}) {
             userErrors { code field } } }""",
        {"id": photo["id"]},
        headers=editor,
    )
    assert outside["updateMedia"]["userErrors"][0]["code"] == "INVALID"

    # In use as a post's feature image: deleting it would break the post.
    writer, _ = await as_staff(models.Role.AUTHOR)
    post = await create_post(db, "Harbour", authors=[writer])
    used = await graphql_data(
        client,
        "mutation($input: UpdatePostInput!) { updatePost(input: $input) { userErrors { code } } }",
        {"input": {"id": to_global_id("Post", post.id), "featureImage": photo["url"]}},
        headers=editor,
    )
    assert used["updatePost"]["userErrors"] == []
    delete = "mutation($id: ID!) { deleteMedia(input: {id: $id}) { deletedId userErrors { code message } } }"
    refused = (await graphql_data(client, delete, {"id": photo["id"]}, headers=editor))[
        "deleteMedia"
    ]
    assert refused["userErrors"][0]["code"] == "IN_USE"
    assert "post:harbour" in refused["userErrors"][0]["message"]
    deleted = (await graphql_data(client, delete, {"id": icon["id"]}, headers=editor))[
        "deleteMedia"
    ]
    assert deleted == {"deletedId": icon["id"], "userErrors": []}
    assert (await client.get(icon["url"].removeprefix("http://testserver"))).status_code == 404
    assert len(stored_files(settings)) == 1  # the photo's original
    async with db.read_sessions() as session:
        types = list(await session.scalars(select(models.Event.type).order_by(models.Event.id)))
    assert types.count("media.uploaded") == 2
    assert types.count("media.deleted") == 1


async def test_deleting_media_leaves_no_file(
    client: httpx.AsyncClient, editor: dict[str, str], settings: Settings
) -> None:
    media = await uploaded(client, editor, jpeg(1200, 800))
    sha = media["url"].rsplit("/", 1)[1].split(".")[0]
    for size in ("w300.webp", "square300.avif"):
        assert (await client.get(f"/media/{sha}/{size}")).status_code == 200
    assert stored_files(settings) == [
        f"originals/{sha}.jpg",
        f"sizes/{sha}/square300.avif",
        f"sizes/{sha}/w300.webp",
    ]
    delete = (
        "mutation($id: ID!) { deleteMedia(input: {id: $id}) { deletedId userErrors { code } } }"
    )
    deleted = await graphql_data(client, delete, {"id": media["id"]}, headers=editor)
    assert deleted["deleteMedia"] == {"deletedId": media["id"], "userErrors": []}
    assert stored_files(settings) == []
    for path in (f"/media/{sha}.jpg", f"/media/{sha}/w300.webp", f"/media/{sha}/w600.webp"):
        assert (await client.get(path)).status_code == 404, path
    assert stored_files(settings) == []  # no size made again for a deleted file


async def test_s3_storage_round_trips_bytes_under_its_prefix(s3_server: s3.S3Server) -> None:
    bucket = s3_server.new_bucket()
    storage = S3Storage(
        bucket,
        prefix="/site/media/",
        endpoint_url=s3_server.url,
        region=s3.REGION,
        access_key_id="test",
        secret_access_key="test",
    )
    sent: list[dict[str, Any]] = []
    storage.client.meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers))
    )
    key = "sizes/abc/w300.webp"
    assert await storage.get(key) is None
    await storage.delete(key)  # nothing there: no error
    data = png()
    await storage.put(key, data, "image/webp")
    # The checksum every S3-compatible store checks (moto does not), and none of the
    # x-amz-checksum-* headers several of them refuse.
    [headers] = sent
    assert headers["Content-MD5"] == base64.b64encode(hashlib.md5(data).digest())
    assert not [name for name in headers if name.lower().startswith("x-amz-checksum")]
    await storage.put(key, data, "image/webp")  # the same bytes again: harmless
    assert await storage.get(key) == data
    assert s3_server.keys(bucket) == ["site/media/sizes/abc/w300.webp"]
    head = s3_server.client.head_object(Bucket=bucket, Key="site/media/sizes/abc/w300.webp")
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentLength"] == len(data)
    await storage.delete(key)
    assert await storage.get(key) is None
    assert s3_server.keys(bucket) == []
    # A bucket that is not there is a misconfiguration, never a missing file.
    elsewhere = S3Storage(
        "no-such-bucket",
        endpoint_url=s3_server.url,
        region=s3.REGION,
        access_key_id="test",
        secret_access_key="test",
    )
    with pytest.raises(ClientError, match="NoSuchBucket"):
        await elsewhere.get(key)


def test_s3_keys_come_in_pairs() -> None:
    with pytest.raises(ValueError, match="or neither"):
        Settings(media_s3_bucket="media", media_s3_access_key_id="AKIA", _env_file=None)
    chain = Settings(media_s3_bucket="media", _env_file=None)  # the AWS credential chain
    assert chain.media_s3_secret_access_key is None
    keyed = Settings(
        media_s3_access_key_id="AKIA", media_s3_secret_access_key="hush", _env_file=None
    )
    assert "hush" not in repr(keyed)

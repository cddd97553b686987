"""The three pages bench/run.py measures (issue 13's SQLite targets are set on them), as a
site's frontend sends them, and the lookups that find real slugs for their variables.

The tests send the same homepage (they import it from here), so a change that stops it
compiling or makes it slower fails there before any benchmark runs. Plain strings: this
module is imported from the tests as `bench.documents` as well as beside the scripts.
"""

from __future__ import annotations

VARIANTS_PER_QUERY = 20  # the slugs each query with a variable cycles through

HOMEPAGE = """
query Homepage {
  settings { title description navigation { label url } }
  posts(first: 15) {
    nodes {
      id title slug excerpt publishedAt featureImage readingTime
      primaryAuthor { name slug profileImage }
      authors { name slug }
      tags { name slug }
      primaryTag { name slug }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

AUTHOR_FIELDS = "id name slug bio profileImage coverImage website location"
TAG_FIELDS = "id name slug description featureImage visibility metaTitle metaDescription"
SINGLE_POST = f"""
query SinglePost($slug: String!) {{
  post(slug: $slug) {{
    id title slug html plaintext featureImage featureImageAlt featureImageCaption featured
    readingTime metaTitle metaDescription canonicalUrl ogImage publishedAt createdAt updatedAt
    status markdown excerpt url
    authors {{ {AUTHOR_FIELDS} }}
    primaryAuthor {{ {AUTHOR_FIELDS} }}
    tags {{ {TAG_FIELDS} }}
    primaryTag {{ {TAG_FIELDS} }}
  }}
}}
"""

TAG_ARCHIVE = """
query TagArchive($slug: String!) {
  tag(slug: $slug) {
    name description postCount
    posts(first: 20) {
      totalCount
      nodes { title slug publishedAt excerpt primaryAuthor { name } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

POST_SLUGS = f"query PostSlugs {{ posts(first: {VARIANTS_PER_QUERY * 5}) {{ nodes {{ slug }} }} }}"
TAG_SLUGS = f"query TagSlugs {{ tags(first: {VARIANTS_PER_QUERY}) {{ nodes {{ slug }} }} }}"

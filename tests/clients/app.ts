// A frontend's use of the generated types: tsc --noEmit fails here when a schema change
// breaks what this code relies on.
import type { ArchiveQuery, ArchiveQueryVariables, HomepageQuery } from "./generated/graphql";

type Card = { href: string; title: string; byline: string; minutes: number; tags: string[] };

export function cards(data: HomepageQuery): Card[] {
  return data.posts.nodes.map((post) => ({
    href: `/${post.slug}/`,
    title: post.title,
    byline: post.primaryAuthor?.name ?? data.settings.title,
    minutes: Math.max(1, post.readingTime),
    tags: post.tags.map((tag) => tag.slug),
  }));
}

export function navigation(data: HomepageQuery): string[] {
  return data.settings.navigation.map((item) => `${item.label} → ${item.url}`);
}

export function nextPage(data: ArchiveQuery, first = 10): ArchiveQueryVariables | null {
  const { hasNextPage, endCursor } = data.posts.pageInfo;
  return hasNextPage ? { first, after: endCursor } : null;
}

export function newest(data: ArchiveQuery): Date | null {
  const published = data.posts.edges[0]?.node.publishedAt;
  return published ? new Date(published) : null;
}

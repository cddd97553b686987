// Apollo Client (core, no React) against a live Broadsheet: the homepage query, then the whole
// archive page by page with `after` cursors. Prints a JSON report on its last line.
import { readFileSync } from "node:fs";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";

const base = process.env.BROADSHEET_URL;
const document = (name) => gql(readFileSync(new URL(`documents/${name}.graphql`, import.meta.url), "utf8"));

let requests = 0;
const client = new ApolloClient({
  link: new HttpLink({
    uri: `${base}/graphql`,
    fetch: (...args) => {
      requests += 1;
      return fetch(...args);
    },
  }),
  cache: new InMemoryCache(),
});

const { data: home } = await client.query({ query: document("homepage") });

const archive = document("archive");
const seen = [];
let pages = 0;
let totalCount = null;
let after = null;
for (;;) {
  const { data } = await client.query({ query: archive, variables: { first: 10, after } });
  pages += 1;
  totalCount = data.posts.totalCount;
  seen.push(...data.posts.edges.map((edge) => edge.node.id));
  if (!data.posts.pageInfo.hasNextPage) break;
  after = data.posts.pageInfo.endCursor;
  if (pages > 100) throw new Error("the archive never ends");
}

console.log(
  JSON.stringify({
    homepage: {
      title: home.settings.title,
      posts: home.posts.nodes.map((post) => ({
        id: post.id,
        slug: post.slug,
        author: post.primaryAuthor?.name ?? null,
        tags: post.tags.length,
      })),
      hasNextPage: home.posts.pageInfo.hasNextPage,
    },
    archive: { pages, totalCount, seen },
    requests,
  }),
);

// Apollo Client's persisted-queries link (APQ) against a live Broadsheet, hashing with
// node:crypto. One client sends a new document's hash by GET (a miss), the link retries with
// the document; fresh clients then send only the hash, by GET and by POST, and hit. Every
// request and what came back is in the JSON report printed on the last line.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const QUERY = gql`
  query PersistedArchive($first: Int!) {
    posts(first: $first) {
      totalCount
      nodes {
        id
        slug
      }
    }
  }
`;
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function client(log, { useGETForHashedQueries }) {
  const http = new HttpLink({
    uri: `${process.env.BROADSHEET_URL}/graphql`,
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      const sent =
        init.method === "GET"
          ? Object.fromEntries(
              [...new URL(url).searchParams].map(([key, value]) => [
                key,
                ["variables", "extensions"].includes(key) ? JSON.parse(value) : value,
              ]),
            )
          : JSON.parse(init.body);
      const body = await response.clone().json();
      log.push({
        method: init.method,
        sentQuery: typeof sent.query === "string",
        hash: sent.extensions?.persistedQuery?.sha256Hash ?? null,
        status: response.status,
        codes: (body.errors ?? []).map((error) => error.extensions?.code),
        data: body.data != null,
      });
      return response;
    },
  });
  return new ApolloClient({
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(http),
    cache: new InMemoryCache(),
  });
}

const run = async (options) => {
  const log = [];
  const { data } = await client(log, options).query({ query: QUERY, variables: { first: 5 } });
  return { log, slugs: data.posts.nodes.map((post) => post.slug) };
};

const first = await run({ useGETForHashedQueries: true }); // a miss, then the retry
const again = await run({ useGETForHashedQueries: true }); // a hit by GET
const byPost = await run({ useGETForHashedQueries: false }); // a hit by POST
console.log(JSON.stringify({ first, again, byPost }));

// PostGraphile v4 over the Broadsheet benchmark database, in its documented production
// configuration, as one Node process: bench/compare.py starts it pinned to one core.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench PORT=5678 node server.js
//
// It exposes the `public` tables Alembic made (read-only: no mutations) and the `bench_peer`
// schema, where bench/compare.py creates the search function PostGraphile needs.
"use strict";

const http = require("http");
const { postgraphile } = require("postgraphile");
const PgSimplifyInflectorPlugin = require("@graphile-contrib/pg-simplify-inflector");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");
const PgManyToManyPlugin = require("@graphile-contrib/pg-many-to-many");

const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT || 5678);
if (!databaseUrl) {
  console.error("DATABASE_URL is required");
  process.exit(2);
}

const middleware = postgraphile(databaseUrl, ["public", "bench_peer"], {
  appendPlugins: [PgSimplifyInflectorPlugin, ConnectionFilterPlugin, PgManyToManyPlugin],
  graphileBuildOptions: {
    connectionFilterRelations: true, // filter posts by their tags' slugs, authors by posts
    connectionFilterComputedColumns: false,
    connectionFilterSetofFunctions: false,
  },
  // The production settings of https://www.graphile.org/postgraphile/usage-library/
  subscriptions: false,
  retryOnInitFail: false,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  disableDefaultMutations: true,
  extendedErrors: ["errcode"],
  showErrorStack: false,
  graphiql: false,
  enhanceGraphiql: false,
  watchPg: false,
  disableQueryLog: true,
  enableQueryBatching: false,
  legacyRelations: "omit",
  exportGqlSchemaPath: process.env.EXPORT_SCHEMA || undefined,
});

http.createServer(middleware).listen(port, "127.0.0.1", () => {
  console.log(`PostGraphile ${require("postgraphile/package.json").version} on ${port}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}

// GraphQL Code Generator: TypeScript types for documents/*.graphql from the committed
// schema.graphql (a file, so no network). BROADSHEET_SCHEMA and BROADSHEET_CODEGEN_OUT let the
// test point it at another schema and output folder.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: process.env.BROADSHEET_SCHEMA ?? "../../schema.graphql",
  documents: "documents/*.graphql",
  generates: {
    [`${process.env.BROADSHEET_CODEGEN_OUT ?? "generated"}/graphql.ts`]: {
      plugins: ["typescript", "typescript-operations"],
      config: { scalars: { DateTime: "string" }, enumsAsTypes: true, avoidOptionals: true },
    },
  },
};

export default config;

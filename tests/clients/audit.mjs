// graphql-http's server audit (GraphQL over HTTP conformance) against a live Broadsheet.
// Prints a JSON report on its last line: counts by status and every audit that is not ok.
import { auditServer } from "graphql-http";

const results = await auditServer({ url: `${process.env.BROADSHEET_URL}/graphql`, fetchFn: fetch });

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const failures = [];
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== "ok") {
    const { status, headers } = result.response;
    failures.push({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.reason,
      response: { status, contentType: headers.get("content-type") },
    });
  }
}
console.log(JSON.stringify({ total: results.length, counts, failures }));

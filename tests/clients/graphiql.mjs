// Headless Chromium opens Broadsheet's GraphiQL with every other host unreachable, types a
// query into the editor, runs it with Ctrl-Enter and waits for the result on screen. Prints a
// JSON report (every request the page made, what the result pane shows) on its last line.
import { chromium } from "playwright-core";

const { BROADSHEET_URL, CHROMIUM, DEAD_PORT, QUERY, EXPECT, SCREENSHOT } = process.env;
const TIMEOUT = 20_000;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  timeout: TIMEOUT,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // No name resolves but the loopback address, and anything that still tries to leave goes
    // to a proxy that is not there.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    `--proxy-server=http://127.0.0.1:${DEAD_PORT}`,
    "--proxy-bypass-list=127.0.0.1",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const requests = [];
  const failed = [];
  const errors = [];
  context.on("request", (request) => requests.push(`${request.method()} ${request.url()}`));
  context.on("requestfailed", (request) =>
    failed.push(`${request.url()} ${request.failure()?.errorText}`),
  );
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));

  await page.goto(`${BROADSHEET_URL}/graphql`, { waitUntil: "networkidle", timeout: TIMEOUT });
  const editor = page.locator(".graphiql-query-editor .CodeMirror");
  await editor.waitFor({ timeout: TIMEOUT });
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(QUERY); // as a paste: no auto-closed brackets
  await page.keyboard.press("Control+Enter");

  const result = page.locator(".graphiql-response .CodeMirror-code");
  await result.filter({ hasText: EXPECT }).waitFor({ timeout: TIMEOUT });
  await page.screenshot({ path: SCREENSHOT });

  // The harness itself: a page on another host must not load.
  let outside;
  const probe = await browser.newPage();
  try {
    await probe.goto("https://cdn.jsdelivr.net/npm/graphiql/package.json", { timeout: TIMEOUT });
    outside = "loaded";
  } catch (error) {
    outside = String(error).split("\n")[0];
  }

  console.log(
    JSON.stringify({
      title: await page.title(),
      editor: await page.evaluate(
        () => document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue(),
      ),
      result: await result.innerText(),
      requests,
      failed,
      errors,
      outside,
    }),
  );
} finally {
  await browser.close();
}

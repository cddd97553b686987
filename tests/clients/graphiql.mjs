// Headless Chromium opens Broadsheet's GraphiQL with every other host unreachable (from the
// front door at / when FRONT_DOOR_SCREENSHOT is set), types QUERY into the editor (or keeps
// the example GraphiQL opens on, when QUERY is empty), runs it with Ctrl-Enter and waits for
// the result on screen. Prints a JSON report (every request the page made, what the result
// pane shows) on its last line.
import { chromium } from "playwright-core";

const { BROADSHEET_URL, CHROMIUM, DEAD_PORT, QUERY, EXPECT, SCREENSHOT, FRONT_DOOR_SCREENSHOT } =
  process.env;
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

  let frontDoor = null;
  if (FRONT_DOOR_SCREENSHOT) {
    await page.goto(`${BROADSHEET_URL}/`, { waitUntil: "networkidle", timeout: TIMEOUT });
    frontDoor = { title: await page.title(), heading: await page.locator("h1").innerText() };
    await page.screenshot({ path: FRONT_DOOR_SCREENSHOT, fullPage: true });
    await page.click('a[href="/graphql"]');
    await page.waitForLoadState("networkidle", { timeout: TIMEOUT });
  } else {
    await page.goto(`${BROADSHEET_URL}/graphql`, { waitUntil: "networkidle", timeout: TIMEOUT });
  }
  const editor = page.locator(".graphiql-query-editor .CodeMirror");
  await editor.waitFor({ timeout: TIMEOUT });
  await editor.click();
  if (QUERY) {
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(QUERY); // as a paste: no auto-closed brackets
    // GraphiQL re-reads the operation names a moment after an edit; run before that, and it
    // sends the previous tab's name ("Homepage") with the new, anonymous document.
    await page.waitForTimeout(1000);
  }
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
      frontDoor,
      tabs: await page.locator(".graphiql-tab").allInnerTexts(),
      editors: await page.evaluate(() =>
        Array.from(document.querySelectorAll(".CodeMirror"), (e) => e.CodeMirror.getValue()),
      ),
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

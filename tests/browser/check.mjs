// Loads report.html in headless Debian Chromium with every network path closed and checks
// what a reader would see. Usage: node check.mjs REPORT.html full|empty SCREENSHOT.png
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [report, expect, screenshot] = process.argv.slice(2);
if (!report || !["full", "empty"].includes(expect) || !screenshot) {
  console.error("usage: node check.mjs REPORT.html full|empty SCREENSHOT.png");
  process.exit(2);
}

const failures = [];
let passed = 0;
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (ok) passed += 1;
  else failures.push(what);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    // No network: a dead proxy and a resolver that resolves nothing.
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = [];
  const external = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
  // A self-contained page asks for nothing but itself.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) return route.continue();
    external.push(url);
    return route.abort();
  });

  await page.goto(pathToFileURL(report).href, { waitUntil: "load" });

  const count = (sel) => page.locator(sel).count();
  check((await page.title()).length > 0, "page has a title");
  check((await count("table[data-inputs] tbody tr")) > 0, "run facts list the inputs");
  check((await count("#rejects")) === 1, "rejects section present");
  check((await count("[data-caps]")) === 1, "footer states the quote caps");

  const cells = await count("table[data-heatmap] td.cell[data-segments][data-negative-share]");
  const quotes = await count("#themes [data-quote]");
  if (expect === "full") {
    check((await count("table[data-heatmap]")) === 1, "heatmap present");
    check(cells > 0, `heatmap has cells (${cells})`);
    check(quotes > 0, `theme sections have quotes (${quotes})`);
    check((await count("table[data-drivers] tbody tr")) > 0, "drivers chart has bars");
    // Interaction: click pins the popover with figures and quotes; Escape closes it.
    const first = page.locator("td.cell button").first();
    await first.click();
    const pop = page.locator("#cell-popover");
    check(await pop.isVisible(), "clicking a cell opens its popover");
    check((await pop.locator("dl dd").count()) > 0, "popover shows the cell's counts");
    check((await pop.locator("[data-quote]").count()) > 0, "popover shows the cell's quotes");
    check((await first.getAttribute("aria-expanded")) === "true", "cell reports aria-expanded");
    await page.keyboard.press("Escape");
    check(await pop.isHidden(), "Escape closes the popover");
    // Keyboard only: focusing a cell shows its popover too.
    await page.locator("td.cell button").nth(1).focus();
    check(await pop.isVisible(), "focusing a cell (keyboard) shows its popover");
    await page.keyboard.press("Escape");
  } else {
    console.log("NOTE: no model, so no classification: the heatmap is expected to be EMPTY.");
    check((await count("[data-heatmap-empty]")) === 1, "empty heatmap is stated on the page");
    check((await count("[data-no-classification]")) === 1, "missing classification is explained");
    check(cells === 0, "no heatmap cells without classification");
  }

  await page.screenshot({ path: screenshot, fullPage: true });
  if (expect === "full") {
    // A second picture with a pinned popover, as a reader exploring the heatmap sees it.
    const cell = page.locator("td.cell button").nth(2);
    await cell.scrollIntoViewIfNeeded();
    await cell.click();
    const detail = screenshot.replace(/\.png$/, "-popover.png");
    await page.screenshot({ path: detail });
    console.log(`screenshot: ${detail}`);
  }
  console.log(`screenshot: ${screenshot}`);

  check(external.length === 0, `no network requests (${external.join(", ") || "none"})`);
  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? ": " + consoleErrors.join(" | ") : ""}`);
} catch (e) {
  console.error(`FAIL ${e.stack || e}`);
  failures.push("the check itself threw");
} finally {
  await browser.close();
}
// The plain closing line CI reads, as a test runner's summary.
console.log(`browser: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);

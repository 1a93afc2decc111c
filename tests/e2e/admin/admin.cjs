// The admin's browser scenarios (run by tests/e2e/admin/run, which starts chirp and sets the
// environment). Each step asserts what a person would see; the first failure stops the run with
// a screenshot of the page.
"use strict";

const path = require("node:path");
const { chromium } = require("playwright-core");

const BASE = process.env.BASE;
const ARTIFACTS = process.env.ARTIFACTS;
const SUPERUSER = { email: process.env.SUPERUSER_EMAIL, password: process.env.SUPERUSER_PASSWORD };
const STAFF = { email: process.env.STAFF_EMAIL, password: process.env.DEMO_PASSWORD };
const DEMO = { email: process.env.DEMO_EMAIL, password: process.env.DEMO_PASSWORD };

let step = "start";
let passed = 0;

function check(condition, message) {
  if (!condition) throw new Error(`${step}: ${message}`);
}

async function expectText(page, selector, text) {
  const el = page.locator(selector).first();
  await el.waitFor({ timeout: 5000 });
  // textContent, not innerText: CSS may change the case of what is shown.
  const got = (await el.textContent()).replace(/\s+/g, " ");
  check(got.includes(text), `expected ${selector} to contain “${text}”, got “${got.slice(0, 300)}”`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function scenario(name, fn) {
  step = name;
  const started = Date.now();
  await fn();
  passed += 1;
  console.log(`ok ${passed} - ${name} (${Date.now() - started} ms)`);
}

async function login(page, who) {
  await page.goto(`${BASE}/admin/login`);
  await page.getByLabel("Email address").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Log in" }).click()]);
}

async function logout(page) {
  await page.getByTestId("logout").click();
  await page.waitForURL(/\/admin\/login/);
}

// Titles of the rows of a list page (its first column).
async function rowTitles(page) {
  return page.locator("table.results tbody tr td:not(.check) a").allInnerTexts();
}

(async () => {
  // Sixty extra posts by ada, through the API, so the post list has more than one page.
  const loginRes = await fetch(`${BASE}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: DEMO.email, password: DEMO.password }),
  });
  check(loginRes.ok, `the demo account cannot log in through the API (${loginRes.status})`);
  const { access_token: token } = await loginRes.json();
  for (let i = 0; i < 60; i += 1) {
    const res = await fetch(`${BASE}/posts`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ body: `bulk post number ${String(i).padStart(2, "0")}` }),
    });
    check(res.status === 201, `creating post ${i} through the API answered ${res.status}`);
  }

  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Script errors count; a page answered with 4xx on purpose (403, 422…) logs a console
  // error of its own, so status errors are checked on the admin's static files instead.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  page.on("response", (r) => {
    if (r.url().includes("/admin/static/") && r.status() !== 200) errors.push(`${r.url()}: ${r.status()}`);
  });
  try {
    await scenario("log in", async () => {
      await page.goto(`${BASE}/admin`);
      check(page.url().includes("/admin/login?next="), `anonymous visit should land on the login page, got ${page.url()}`);
      await page.getByLabel("Email address").fill(SUPERUSER.email);
      await page.getByLabel("Password").fill("not the password");
      await page.getByRole("button", { name: "Log in" }).click();
      await expectText(page, "[role=alert]", "Enter the email and password of a staff account");
      await login(page, SUPERUSER);
      check(new URL(page.url()).pathname === "/admin", `after login: ${page.url()}`);
      await expectText(page, "h1", "Chirp admin");
      await expectText(page, ".dashboard", "Posts");
      await expectText(page, ".dashboard", "Users");
      await shot(page, "dashboard");
      // Dark mode: the toggle switches and is remembered.
      await page.getByRole("button", { name: "Switch between light and dark mode" }).click();
      const theme = await page.evaluate(() => document.documentElement.getAttribute("data-theme"));
      check(theme === "dark", `the theme toggle should switch to dark, got ${theme}`);
      await page.reload();
      check((await page.evaluate(() => document.documentElement.getAttribute("data-theme"))) === "dark", "the choice is remembered");
      await shot(page, "dashboard-dark");
      await page.getByRole("button", { name: "Switch between light and dark mode" }).click();
    });

    let postUrl = "";
    let authorKey = "";
    await scenario("create with a validation error, then fix it", async () => {
      await page.goto(`${BASE}/admin/chirp/post/add`);
      // The author through the picker: type, choose from the suggestions.
      await page.locator("#field-author").fill("ada");
      const suggestion = page.locator(".field .ac-results .ac-item", { hasText: "ada" }).first();
      await suggestion.waitFor({ timeout: 5000 });
      await suggestion.click();
      const author = await page.locator("input[name=author]").inputValue();
      check(/^\d+$/.test(author), `the picker should set the author's key, got “${author}”`);
      authorKey = author;
      // Body left empty: the server answers with the error next to the field.
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await expectText(page, "[role=alert]", "Please correct the errors below.");
      await expectText(page, ".field.has-error", "This field is required.");
      check((await page.locator("#field-body").getAttribute("aria-invalid")) === "true", "the body input should be marked invalid");
      await shot(page, "form-error");
      await page.locator("#field-body").fill("Hello from the browser suite");
      await page.getByRole("button", { name: "Save and continue editing" }).click();
      await expectText(page, ".flash", "was added");
      postUrl = page.url();
      check(/\/admin\/chirp\/post\/\d+$/.test(new URL(postUrl).pathname), `should stay on the new post, got ${postUrl}`);
      await shot(page, "form");
    });

    await scenario("edit, with a comment added inline", async () => {
      await page.goto(postUrl);
      await page.locator("#field-body").fill("Hello, edited in the browser");
      // The post's comments are edited on its page: a blank row adds one.
      const row = page.locator("[data-inline=chirp_comment] tbody tr").last();
      await row.locator("input[type=search]").fill("grace");
      const pick = row.locator(".ac-results .ac-item", { hasText: "grace" }).first();
      await pick.waitFor({ timeout: 5000 });
      await pick.click();
      await row.locator("textarea, input[name$='-body']").first().fill("An inline comment");
      await page.getByRole("button", { name: "Save and continue editing" }).click();
      await expectText(page, ".flash", "was changed");
      check((await page.locator("#field-body").inputValue()) === "Hello, edited in the browser", "the edit should be saved");
      await expectText(page, "[data-inline=chirp_comment] tbody", "An inline comment");
    });

    await scenario("search", async () => {
      await page.goto(`${BASE}/admin/chirp/post`);
      await page.getByRole("searchbox", { name: "Search posts" }).fill("edited in the browser");
      await page.getByRole("button", { name: "Search" }).click();
      const titles = await rowTitles(page);
      check(titles.length === 1 && titles[0].includes("edited in the browser"), `search results: ${JSON.stringify(titles)}`);
      await expectText(page, "[data-testid=count]", "1 post");
    });

    await scenario("filter", async () => {
      await page.goto(`${BASE}/admin/auth/user`);
      await page.locator(".filters .filter", { hasText: "Is staff" }).getByRole("link", { name: "Yes" }).click();
      await page.waitForURL(/is_staff=1/);
      const emails = await rowTitles(page);
      check(emails.includes("grace@example.com") && emails.includes("root@example.com"), `staff: ${JSON.stringify(emails)}`);
      check(!emails.includes("ada@example.com"), `ada is not staff: ${JSON.stringify(emails)}`);
      await shot(page, "list-filtered");
    });

    await scenario("sort", async () => {
      await page.goto(`${BASE}/admin/chirp/post`);
      await page.locator("thead a.sort", { hasText: "Body" }).click();
      await page.waitForURL(/o=body/);
      check((await page.locator("thead th[aria-sort]").first().getAttribute("aria-sort")) === "ascending", "sorted ascending");
      const up = await rowTitles(page);
      check(up.length > 1 && up[0].localeCompare(up[1]) <= 0, `ascending: ${up.slice(0, 3)}`);
      await page.locator("thead a.sort", { hasText: "Body" }).click();
      await page.waitForURL(/o=-body/);
      check((await page.locator("thead th[aria-sort]").first().getAttribute("aria-sort")) === "descending", "sorted descending");
      const down = await rowTitles(page);
      check(down[0].localeCompare(down[1]) >= 0, `descending: ${down.slice(0, 3)}`);
    });

    await scenario("paginate forward and back", async () => {
      await page.goto(`${BASE}/admin/chirp/post?o=body`);
      const first = await rowTitles(page);
      check(first.length === 50, `a full first page has 50 rows, got ${first.length}`);
      await shot(page, "list");
      await page.locator("a[rel=next]").click();
      await page.waitForURL(/after=/);
      const second = await rowTitles(page);
      check(second.length > 0 && !second.includes(first[0]), "the second page shows other rows");
      check(second[0].localeCompare(first[first.length - 1]) >= 0, "the second page continues the order");
      await page.locator("a[rel=prev]").click();
      await page.waitForURL(/before=/);
      const back = await rowTitles(page);
      check(JSON.stringify(back) === JSON.stringify(first), "going back shows the first page again");
    });

    await scenario("bulk delete", async () => {
      // Every word must match: “0” matches 00–09, 10, 20, 30, 40 and 50.
      await page.goto(`${BASE}/admin/chirp/post?q=bulk+post+number+0`);
      const before = await rowTitles(page);
      check(before.length === 15, `fifteen matching posts, got ${before.length}`);
      await expectText(page, "[data-testid=count]", "15 posts");
      const boxes = page.locator("tbody input[name=ids]");
      await boxes.nth(0).check();
      await boxes.nth(1).check();
      await expectText(page, "[data-selected-count]", "2 selected");
      await page.getByLabel("Action on the selected rows").selectOption("delete");
      await page.getByRole("button", { name: "Go" }).click();
      await expectText(page, "main", "You are about to delete 2 posts");
      await page.getByRole("button", { name: "Yes, delete" }).click();
      await expectText(page, ".flash", "Deleted 2 posts.");
      const after = await rowTitles(page);
      check(after.length === 13, `thirteen left, got ${after.length}`);
      check(!after.includes(before[0]) && !after.includes(before[1]), "the selected rows are gone");
      await expectText(page, "[data-testid=count]", "13 posts");
    });

    await scenario("history with the diff", async () => {
      await page.goto(postUrl);
      await page.locator(".page-head").getByRole("button", { name: "History" }).click();
      await page.waitForURL(/\/history$/);
      await expectText(page, "table.history", "change");
      await expectText(page, "table.diff .before", "Hello from the browser suite");
      await expectText(page, "table.diff .after", "Hello, edited in the browser");
      // The log keeps the author's key; the history shows the profile by its title, linked.
      const authorLink = page.locator(`table.diff td.after a[href$="/admin/chirp/profile/${authorKey}"]`).first();
      await authorLink.waitFor({ timeout: 5000 });
      const shown = (await authorLink.textContent()).trim();
      check(shown !== "" && shown !== authorKey, `the author should show by its title, got “${shown}”`);
      await shot(page, "history");
      await page.goto(`${BASE}/admin/history`);
      await expectText(page, "table.history", "delete");
    });

    await scenario("a phone-sized screen", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${BASE}/admin/chirp/post`);
      check(!(await page.locator("aside.sidebar").isVisible()), "the model sidebar folds away on a phone");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 1, `the page should not scroll sideways (${overflow}px too wide)`);
      await shot(page, "list-phone");
      await page.setViewportSize({ width: 1366, height: 900 });
    });

    await scenario("a staff member without permissions gets 403", async () => {
      await logout(page);
      await login(page, STAFF);
      await expectText(page, ".dashboard", "You may not view any model yet");
      const res = await page.goto(`${BASE}/admin/chirp/post`);
      check(res.status() === 403, `expected 403, got ${res.status()}`);
      await expectText(page, "main", "You do not have permission");
    });

    await scenario("log out", async () => {
      await page.goto(`${BASE}/admin`);
      await logout(page);
      await expectText(page, ".flash", "You are logged out.");
      const res = await page.goto(`${BASE}/admin/chirp/post`);
      check(page.url().includes("/admin/login"), `after logout a page sends to the login page, got ${page.url()} (${res.status()})`);
    });

    check(errors.length === 0, `the browser reported errors: ${errors.join(" | ")}`);
    console.log(`e2e/admin: ${passed} scenarios passed; screenshots in ${ARTIFACTS}`);
  } catch (e) {
    console.error(`not ok - ${e.message}`);
    console.error(`page: ${page.url()}`);
    try {
      await shot(page, "failure");
      console.error(`screenshot: ${path.join(ARTIFACTS, "failure.png")}`);
    } catch (_) {
      /* the page may be gone */
    }
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`not ok - ${step}: ${e.stack || e}`);
  process.exit(1);
});

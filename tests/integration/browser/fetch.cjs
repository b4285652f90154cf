'use strict'
// Fetches URLs with headless Chromium (Debian's, driven by playwright-core; never a downloaded
// browser) and writes what it decoded, so that a test can compare it with the files served.
//
//   node fetch.cjs [--chromium PATH] [--timeout-ms MS] URL OUT [URL OUT ...]
//
// One browser, one page, for all URLs. For each URL the page navigates to it, then, from that
// page, fetch()es it again (cache: 'no-store', with the Accept the navigation sent). Writes:
//   OUT        the navigation's decoded body (playwright's response.body())
//   OUT.fetch  the decoded body as the page's fetch() got it (its Blob, read as a data: URL)
//   OUT.json   {url, status, headers, requestHeaders, fetch: {status, headers, protocol}, ui},
//              header names in lower case: headers as Chromium received them (content-encoding,
//              vary, etag, content-type, content-length...), requestHeaders as it sent them;
//              fetch.protocol the fetch()'s ALPN protocol as the page's Resource Timing saw it
//              ("h2", "http/1.1"); ui what the origin's root folder page showed once loaded:
//              {protocol, resources: [{name, protocol}], rows} (its own files, the rows it
//              drew).
// Certificate errors are ignored (the tests' servers have certificates of a test CA).
// On stdout: how long Chromium took to start, then a line per URL (status, coding, time).
// playwright-core is found through NODE_PATH, else in ../tus/node_modules (scripts/lib.sh).
// Exit status: 0 when every URL was fetched (whatever its HTTP status), 1 on a failure (named
// on stderr), 2 on bad arguments or a missing module, 3 when the overall timer fires first.

const fs = require('node:fs')

const cli = require('./cli.cjs')('fetch.cjs', 20000)
if (cli.failed) return
const { die, chromium, chromiumPath, timeoutMs, args, timer } = cli
if (args.length === 0 || args.length % 2 !== 0) return die(2, 'usage: give URL OUT pairs')

// In the page: fetch url again, the bytes as base64 (through a data: URL, fast for MiBs).
async function pageFetch({ url, accept }) {
  const r = await fetch(url, { cache: 'no-store', headers: accept ? { Accept: accept } : {} })
  const blob = await r.blob()
  // The entry is complete once the body has been read.
  const timing = performance.getEntriesByName(new URL(url, location.href).href).at(-1)
  const dataUrl = await new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(reader.result)
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(blob)
  })
  return {
    status: r.status,
    headers: Object.fromEntries([...r.headers].map(([k, v]) => [k.toLowerCase(), v])),
    base64: dataUrl.slice(dataUrl.indexOf(',') + 1),
    protocol: timing ? timing.nextHopProtocol : null,
  }
}

// In the page: how the page itself and its own files came (the page is loaded).
function pageLoad() {
  const nav = performance.getEntriesByType('navigation')[0]
  return {
    protocol: nav ? nav.nextHopProtocol : null,
    resources: performance
      .getEntriesByType('resource')
      .map((e) => ({ name: e.name, protocol: e.nextHopProtocol })),
    rows: document.querySelectorAll('.rows [role=rowheader] a').length,
  }
}

// One page per origin, opened on the origin's root folder (the browser page) and loaded with
// its own files: {page, ui: pageLoad()}.
const fetchers = new Map()
async function fetcher(browser, url) {
  const origin = new URL(url).origin
  if (!fetchers.has(origin)) {
    const p = await browser.newPage({ ignoreHTTPSErrors: true })
    p.setDefaultTimeout(timeoutMs)
    await p.goto(`${origin}/`, { waitUntil: 'load' })
    // The page's script has fetched the listing and drawn its rows (every root here has files).
    await p.waitForFunction(() => document.querySelectorAll('.rows [role=rowheader] a').length > 0)
    fetchers.set(origin, { page: p, ui: await p.evaluate(pageLoad) })
  }
  return fetchers.get(origin)
}

async function main() {
  const t0 = Date.now()
  // Root needs --no-sandbox; the rest keep Chromium off the (closed) network.
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    chromiumSandbox: false,
    timeout: timeoutMs,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  })
  try {
    process.stdout.write(`chromium started in ${Date.now() - t0} ms\n`)
    const page = await browser.newPage({ ignoreHTTPSErrors: true })
    page.setDefaultTimeout(timeoutMs)
    for (let i = 0; i < args.length; i += 2) {
      const [url, out] = [args[i], args[i + 1]]
      const t = Date.now()
      const response = await page.goto(url, { waitUntil: 'commit' })
      if (!response) throw new Error(`${url}: no response`)
      const requestHeaders = await response.request().allHeaders()
      fs.writeFileSync(out, await response.body())
      // fetch() from a page of the server's own origin: a file's document is sandboxed
      // (an opaque origin, server/ui.hpp), so the folder's page does the fetching.
      const origin = await fetcher(browser, url)
      const fetched = await origin.page.evaluate(pageFetch, { url, accept: requestHeaders.accept })
      fs.writeFileSync(`${out}.fetch`, Buffer.from(fetched.base64, 'base64'))
      const report = {
        url,
        status: response.status(),
        headers: await response.allHeaders(),
        requestHeaders,
        fetch: { status: fetched.status, headers: fetched.headers, protocol: fetched.protocol },
        ui: origin.ui,
      }
      fs.writeFileSync(`${out}.json`, JSON.stringify(report, null, 1))
      const coding = report.headers['content-encoding'] ?? '-'
      process.stdout.write(`${url}: ${report.status} ${coding} in ${Date.now() - t} ms\n`)
    }
  } finally {
    await browser.close()
  }
}

main().then(
  () => {
    clearTimeout(timer)
    process.exitCode = 0
  },
  (err) => {
    clearTimeout(timer)
    die(1, err && err.stack ? err.stack : String(err))
  },
)

'use strict'
// Attacks on httpfs's browser page, its files and its writes, made by headless Chromium
// (Debian's, driven by playwright-core; never a downloaded browser), for
// tests/integration/browser_security_test.cpp, which made the files, started the servers and
// judges what this reports (and what is on disk, and what the servers logged).
//
//   node security.cjs [--chromium PATH] [--timeout-ms MS] SPEC.json OUT.json
//
// SPEC.json: {
//   "listings": [{"key", "url", "kind": "ui" | "plain", "rows": N}]  folders with hostile names
//   "click": {"url", "text", "rows"}  the UI page of a folder (of `rows` rows); the row that
//                                   shows `text` is clicked, as a user follows a link
//   "csp": {"url", "control", "foreign", "probe"}  the UI page to inject into; a page without
//                                   a CSP (the plain listing), where the same injection must
//                                   run; a script URL of another origin; a script of the
//                                   page's own origin that tries eval (it sets
//                                   window.__csp.<what> when it ran, else
//                                   window.__cspErrors.<what>)
//   "sandbox": {"ui", "evil"}       the UI page of the server's root; a user's HTML file
//   "attacks": [{"key", "url", "victim"}]  attacker pages, each aimed at `victim` (an origin)
// }
// OUT.json: {"chromiumMs", "listings": {key: ...}, "click": ..., "csp": ..., "sandbox": ...,
//   "attacks": {key: ...}}, each part with "error" ("" or why it failed: the others still
//   run). Every page records the securitypolicyviolation events of its frames
//   (window.__violations, by an init script) and whether window.__pwned was set.
// Exit status: 0 when OUT.json was written, 1 on a failure outside the parts, 2 on bad
// arguments or a missing module, 3 when the overall timer fires first.

const fs = require('node:fs')

const cli = require('./cli.cjs')('security.cjs', 60000)
if (cli.failed) return
const { die, chromium, chromiumPath, timeoutMs, args, timer } = cli
if (args.length !== 2) return die(2, 'usage: security.cjs [options] SPEC.json OUT.json')
const [specPath, outPath] = args

const log = (s) => process.stdout.write(`${s}\n`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// In every frame, before its own scripts: the CSP violations it sees.
function recordViolations() {
  window.__violations = []
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__violations.push({
      directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
      disposition: e.disposition,
    })
  }, true)
}

// A percent-encoded path as the bytes it names, in hex (a name need not be UTF-8).
function pathHex(p) {
  const bytes = []
  for (let i = 0; i < p.length; ) {
    if (p[i] === '%' && /^[0-9a-fA-F]{2}$/.test(p.slice(i + 1, i + 3))) {
      bytes.push(parseInt(p.slice(i + 1, i + 3), 16))
      i += 3
    } else {
      const cp = p.codePointAt(i)
      const s = String.fromCodePoint(cp)
      bytes.push(...Buffer.from(s, 'utf8'))
      i += s.length
    }
  }
  return Buffer.from(bytes).toString('hex')
}

// What a page let a name make: elements, attributes and scripts no escaped text can make.
function injected() {
  const all = [...document.querySelectorAll('*')]
  return {
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
    title: document.title,
    scripts: [...document.scripts].map((s) => s.src || `inline: ${s.text.slice(0, 60)}`),
    onAttributes: all.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name))
      .map((a) => `${e.tagName} ${a.name}`)),
    tags: all.filter((e) => ['IMG', 'IFRAME', 'OBJECT', 'EMBED', 'BASE', 'FORM', 'TEMPLATE']
      .includes(e.tagName) || (e.tagName === 'svg' && !e.classList.contains('icon')))
      .map((e) => e.tagName),
    javascriptLinks: [...document.querySelectorAll('a, area')]
      .filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
    violations: window.__violations ?? [],
    text: document.body.innerText,
  }
}

async function uiListed(page, rows) {
  await page.waitForFunction((n) => {
    const g = document.querySelector('[role=grid]')
    return g && g.getAttribute('aria-busy') === 'false' &&
      document.querySelectorAll('.rows [role=rowheader] a').length >= n
  }, rows)
}

// The entry links of a listing, in list order, ".." left out.
function links(kind) {
  if (kind === 'ui') {
    return [...document.querySelectorAll('.rows [role=row]')]
      .map((r) => ({ r, a: r.querySelector('[role=rowheader] a') }))
      .filter(({ a }) => a.getAttribute('aria-label') !== 'Parent folder')
      .sort((x, y) => Number(x.r.getAttribute('aria-rowindex')) - Number(y.r.getAttribute('aria-rowindex')))
      .map(({ r, a }) => ({ text: a.textContent, href: a.href, raw: a.getAttribute('href'), dir: r.classList.contains('dir') }))
  }
  return [...document.querySelectorAll('tbody a')]
    .filter((a) => a.getAttribute('href') !== '../')
    .map((a) => ({ text: a.textContent, href: a.href, raw: a.getAttribute('href'), dir: a.getAttribute('href').endsWith('/') }))
}

// Fetches each link from the page (the file's bytes as base64; a folder's status only).
async function fetchLinks(entries) {
  const out = []
  for (const e of entries) {
    try {
      const r = await fetch(e.href, { cache: 'no-store' })
      const b = new Uint8Array(await r.arrayBuffer())
      out.push({ status: r.status, body: e.dir ? '' : btoa(String.fromCharCode(...b)) })
    } catch (err) {
      out.push({ status: 0, error: String(err) })
    }
  }
  return out
}

const parts = {
  async listing(context, l, r) {
    const page = await context.newPage()
    const response = await page.goto(l.url)
    r.origin = new URL(l.url).origin
    r.status = response.status()
    r.csp = (await response.allHeaders())['content-security-policy'] ?? null
    if (l.kind === 'ui') await uiListed(page, l.rows)
    await sleep(100) // violations are reported as tasks
    r.entries = await page.evaluate(links, l.kind)
    for (const e of r.entries) {
      const u = new URL(e.href)
      e.origin = u.origin
      e.protocol = u.protocol
      e.pathHex = pathHex(u.pathname)
      e.search = u.search
    }
    const fetched = await page.evaluate(fetchLinks, r.entries)
    r.entries.forEach((e, i) => Object.assign(e, { fetched: fetched[i] }))
    r.page = await page.evaluate(injected)
    r.location = page.url()
    await page.close()
  },

  async click(context, c, r) {
    const page = await context.newPage()
    await page.goto(c.url)
    await uiListed(page, c.rows)
    const entry = (await page.evaluate(links, 'ui')).find((e) => e.text === c.text)
    if (!entry) throw new Error(`no row shows ${c.text}`)
    r.text = entry.text
    // The link as the row shows it, found by its href among the rows (DOM order is not list
    // order), and clicked.
    const anchors = page.locator('.rows [role=rowheader] a')
    const hrefs = await anchors.evaluateAll((as) => as.map((a) => a.href))
    const [response] = await Promise.all([
      page.waitForEvent('response', (q) => q.request().isNavigationRequest()),
      anchors.nth(hrefs.indexOf(entry.href)).click(),
    ])
    r.status = response.status()
    r.url = response.url()
    r.origin = new URL(r.url).origin
    r.pathHex = pathHex(new URL(r.url).pathname)
    r.body = (await response.body()).toString('base64')
    r.csp = (await response.allHeaders())['content-security-policy'] ?? null
    await page.close()
  },

  async csp(context, c, r) {
    // Each attempt sets window.__csp.<name> if it ran.
    const inject = async (page) => page.evaluate(async ({ foreign, probe }) => {
      window.__csp = {}
      const errors = {}
      window.__cspErrors = errors
      const load = (src) => {
        const s = document.createElement('script')
        s.src = src
        const done = new Promise((resolve) => { s.onload = () => resolve('load'); s.onerror = () => resolve('error') })
        document.body.append(s)
        return Promise.race([done, new Promise((resolve) => setTimeout(() => resolve('timeout'), 3000))])
      }
      const s = document.createElement('script')
      s.textContent = 'window.__csp.inlineScript = 1'
      document.body.append(s)
      const d = document.createElement('div')
      d.setAttribute('onclick', 'window.__csp.inlineHandler = 1')
      document.body.append(d)
      d.click()
      const holder = document.createElement('div')
      holder.innerHTML = '<img src="data:," onerror="window.__csp.imgOnerror = 1" onload="window.__csp.imgOnerror = 1">'
      document.body.append(holder)
      const a = document.createElement('a')
      a.href = 'javascript:window.__csp.javascriptUrl = 1'
      document.body.append(a)
      a.click()
      // eval from a script of the page itself (code evaluated by DevTools, as this function
      // is, is exempt from the page's policy).
      errors.probe = await load(probe)
      errors.foreignScript = await load(foreign)
      try { await fetch(foreign, { mode: 'no-cors' }); errors.foreignFetch = 'sent' } catch (e) { errors.foreignFetch = e.name }
      await new Promise((resolve) => setTimeout(resolve, 300))
      return { ran: window.__csp, errors, violations: window.__violations }
    }, { foreign: c.foreign, probe: c.probe })
    const page = await context.newPage()
    const response = await page.goto(c.url)
    r.csp = (await response.allHeaders())['content-security-policy'] ?? null
    await uiListed(page, 0)
    r.page = await inject(page)
    // The control: the same injection where no CSP is sent runs.
    const response2 = await page.goto(c.control)
    r.controlCsp = (await response2.allHeaders())['content-security-policy'] ?? null
    r.control = await inject(page)
    await page.close()
  },

  async sandbox(context, s, r) {
    await context.addCookies([{ name: 'secret', value: 'cookie-s3cret', url: s.ui }])
    const page = await context.newPage()
    await page.goto(s.ui)
    await uiListed(page, 0)
    await page.evaluate(() => localStorage.setItem('secret', 'storage-s3cret'))
    // The control: the page's own origin can read both.
    r.uiSees = await page.evaluate(() => ({ cookie: document.cookie, storage: localStorage.getItem('secret') }))
    // The user's page in a frame of the browser page.
    await page.evaluate((evil) => {
      const f = document.createElement('iframe')
      f.src = evil
      document.body.append(f)
    }, s.evil)
    const framed = await (async () => {
      for (let i = 0; i < 100; i++) {
        const f = page.frames().find((x) => x.url() === s.evil)
        if (f && await f.evaluate(() => document.body?.dataset.done === '1').catch(() => false)) return f
        await sleep(100)
      }
      throw new Error('the framed evil.html never finished')
    })()
    r.framed = JSON.parse(await framed.evaluate(() => document.getElementById('out').textContent))
    r.uiAfter = await page.evaluate(injected)
    delete r.uiAfter.text
    // The user's page opened by itself.
    const top = await context.newPage()
    const response = await top.goto(s.evil)
    r.csp = (await response.allHeaders())['content-security-policy'] ?? null
    await top.waitForFunction(() => document.body?.dataset.done === '1')
    r.top = JSON.parse(await top.evaluate(() => document.getElementById('out').textContent))
    r.topOrigin = await top.evaluate(() => self.origin)
    await top.close()
    await page.close()
  },

  async attack(context, a, r) {
    const page = await context.newPage()
    // What reached the victim, as the browser's network saw it (preflights are not shown).
    r.requests = []
    const seen = []
    page.on('requestfinished', (q) => seen.push(q))
    page.on('requestfailed', (q) => seen.push(q))
    await page.goto(a.url)
    await page.waitForFunction(() => document.body?.dataset.done === '1')
    r.page = JSON.parse(await page.evaluate(() => document.getElementById('out').textContent))
    r.origin = await page.evaluate(() => self.origin)
    await sleep(200)
    for (const q of seen) {
      if (!q.url().startsWith(a.victim)) continue
      const response = await q.response().catch(() => null)
      const headers = await q.allHeaders().catch(() => ({}))
      r.requests.push({
        method: q.method(), url: q.url(), status: response ? response.status() : 0,
        failure: q.failure()?.errorText ?? '', secFetchSite: headers['sec-fetch-site'] ?? '',
        origin: headers.origin ?? '',
      })
    }
    await page.close()
  },
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'))
  const out = { listings: {}, attacks: {} }
  const t0 = Date.now()
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
  out.chromiumMs = Date.now() - t0
  log(`chromium started in ${out.chromiumMs} ms`)
  // Each part in a fresh context (its own cookies and storage); one that fails says why.
  const run = async (name, f, arg) => {
    const r = { error: '' }
    const t = Date.now()
    const context = await browser.newContext()
    context.setDefaultTimeout(15000)
    await context.addInitScript(recordViolations)
    try {
      await f(context, arg, r)
    } catch (err) {
      r.error = err && err.stack ? err.stack : String(err)
    }
    await context.close()
    log(`${name}: ${r.error ? 'FAILED' : 'done'} in ${Date.now() - t} ms`)
    return r
  }
  try {
    for (const l of spec.listings) out.listings[l.key] = await run(`listing ${l.key}`, parts.listing, l)
    out.click = await run('click', parts.click, spec.click)
    out.csp = await run('csp', parts.csp, spec.csp)
    out.sandbox = await run('sandbox', parts.sandbox, spec.sandbox)
    for (const a of spec.attacks) out.attacks[a.key] = await run(`attack ${a.key}`, parts.attack, a)
  } finally {
    await browser.close()
  }
  fs.writeFileSync(outPath, JSON.stringify(out, null, 1))
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

'use strict'
// Drives httpfs's browser page (ui/app.js) in headless Chromium (Debian's, driven by
// playwright-core; never a downloaded browser) through scenarios that a test prepared, and
// writes what the page showed and did, so that the test can check it and the files on disk.
//
//   node page.cjs [--chromium PATH] [--timeout-ms MS] SPEC.json OUT.json
//
// SPEC.json: {"scenarios": [{"name", "kind", "url", ...}]}; kinds and their fields:
//   browse    url                       names as listed, sorted by the column headers, what
//                                       an injected name could have made, the 375 px layout
//   upload    url, file, fileName           the file through the page's Upload > Files… chooser
//   resume    url, file, fileName           the same, through a proxy that cuts the connection
//                                       once (the test's): the requests that failed, the HEADs
//   ops       url, make, rename: [from, to], remove     New folder, Rename or move…, Delete…
//   drop      url, files: [{name, text} | {name, size, seed}]    a drop of File objects
//   zip       url, out                  Download > This folder as ZIP, saved to out
//   readonly  url, file, dropName       which write controls exist (row menu of `file` too);
//                                       a drop of dropName, which must upload nothing
//   auth      url, fileName, text, user, password, [wrong]  an upload that signs in (first
//                                       with the wrong password, when given)
//   many      url, last, filter         a huge folder: the summary, how many rows the DOM
//                                       holds, End (the last row), the filter box
// OUT.json: {"chromiumMs", "scenarios": {name: {"error": "" or why, "console": [errors],
//   "pageErrors": [...], ...what the kind found}}}. Each scenario runs in a fresh context;
//   one that fails records why and the others still run.
// Exit status: 0 when OUT.json was written, 1 on a failure outside the scenarios, 2 on bad
// arguments or a missing module, 3 when the overall timer fires first.

const fs = require('node:fs')

const cli = require('./cli.cjs')('page.cjs', 120000)
if (cli.failed) return
const { die, chromium, chromiumPath, timeoutMs, args, timer } = cli
if (args.length !== 2) return die(2, 'usage: page.cjs [options] SPEC.json OUT.json')
const [specPath, outPath] = args

const log = (s) => process.stdout.write(`${s}\n`)

// The page's rows in list order (they are positioned, so DOM order is not list order).
async function rows(page) {
  return page.evaluate(() => [...document.querySelectorAll('.rows [role=row]')]
    .map((r) => ({
      i: Number(r.getAttribute('aria-rowindex')),
      name: r.querySelector('[role=rowheader] a').textContent,
      dir: r.classList.contains('dir'),
    }))
    .sort((a, b) => a.i - b.i)
    .filter((r) => r.name !== '..'))
}
const names = async (page) => (await rows(page)).map((r) => r.name)

async function waitListed(page, name, present = true) {
  await page.waitForFunction(([n, p]) => [...document.querySelectorAll('.rows [role=rowheader] a')]
    .some((a) => a.textContent === n) === p, [name, present])
}

async function open(page, url) {
  await page.goto(url)
  // Listed: the grid is no longer busy, and rows or a message are there.
  await page.waitForFunction(() => {
    const g = document.querySelector('[role=grid]')
    return g && g.getAttribute('aria-busy') === 'false'
  })
}

// The upload item of `name` in the Uploads panel, once its state is done (or failed: then
// this throws with the page's message).
async function waitUploaded(page, name, ms) {
  const item = page.getByRole('region', { name: 'Uploads' }).getByRole('listitem')
    .filter({ has: page.locator('.up-name', { hasText: name }) })
  await item.and(page.locator('[data-state=done], [data-state=failed]')).waitFor({ timeout: ms })
  const state = await item.getAttribute('data-state')
  const status = await item.locator('.up-status').textContent()
  if (state !== 'done') throw new Error(`upload of ${name} ended ${state}: ${status}`)
  return status
}

async function chooseFiles(page, files) {
  const chooser = page.waitForEvent('filechooser')
  await page.getByRole('button', { name: 'Upload', exact: true }).click()
  await page.getByRole('menuitem', { name: 'Files…' }).click()
  await (await chooser).setFiles(files)
}

const kinds = {
  async browse(page, s, r) {
    await open(page, s.url)
    r.listed = await rows(page)
    r.injected = await page.evaluate(() => ({
      img: document.querySelectorAll('img').length,
      svgOnload: document.querySelectorAll('svg[onload], [onerror], [onload]').length,
      svgOutsideIcons: [...document.querySelectorAll('svg')].filter((e) => !e.classList.contains('icon')).length,
    }))
    r.search = await page.evaluate(() => location.search)
    const head = (label) => page.getByRole('columnheader').getByRole('button', { name: label, exact: true })
    await head('Size').click()
    r.bySize = { names: await names(page), search: await page.evaluate(() => location.search) }
    await head('Size').click()
    r.bySizeAgain = { names: await names(page), search: await page.evaluate(() => location.search) }
    await head('Modified').click()
    r.byDate = { names: await names(page), search: await page.evaluate(() => location.search) }
    // A reload keeps the order the URL names.
    await open(page, await page.evaluate(() => location.href))
    r.afterReload = await names(page)
    await head('Name').click()
    r.byName = { names: await names(page), search: await page.evaluate(() => location.search) }
    // The 375 px layout.
    await page.setViewportSize({ width: 375, height: 800 })
    await page.waitForTimeout(200)
    r.narrow = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      bodyScrollWidth: document.body.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }))
    r.narrowButtons = {
      upload: await page.getByRole('button', { name: 'Upload', exact: true }).isVisible(),
      newFolder: await page.getByRole('button', { name: 'New folder', exact: true }).isVisible(),
      download: await page.getByRole('button', { name: 'Download', exact: true }).isVisible(),
    }
  },

  async upload(page, s, r) {
    await open(page, s.url)
    const t = Date.now()
    await chooseFiles(page, s.file)
    r.status = await waitUploaded(page, s.fileName, s.waitMs)
    r.seconds = (Date.now() - t) / 1000
    await waitListed(page, s.fileName)
    r.listed = await names(page)
  },

  async resume(page, s, r) {
    r.failed = []
    r.methods = {}
    page.on('requestfailed', (q) => r.failed.push(`${q.method()} ${q.failure()?.errorText}`))
    page.on('request', (q) => { r.methods[q.method()] = (r.methods[q.method()] ?? 0) + 1 })
    await kinds.upload(page, s, r)
  },

  async ops(page, s, r) {
    await open(page, s.url)
    r.before = await names(page)
    // New folder.
    await page.getByRole('button', { name: 'New folder', exact: true }).click()
    const made = page.getByRole('dialog', { name: 'New folder' })
    await made.getByLabel('Name').fill(s.make)
    await made.getByRole('button', { name: 'Create' }).click()
    await waitListed(page, s.make)
    r.afterMake = await names(page)
    // Rename.
    const [from, to] = s.rename
    await page.getByRole('button', { name: `Actions for ${from}`, exact: true }).click()
    await page.getByRole('menuitem', { name: 'Rename or move…' }).click()
    const ren = page.getByRole('dialog', { name: 'Rename or move folder' })
    await ren.getByLabel(`New name for “${from}”`).fill(to)
    await ren.getByRole('button', { name: 'Rename' }).click()
    await waitListed(page, to)
    await waitListed(page, from, false)
    r.afterRename = await names(page)
    // Delete, confirmed.
    await page.getByRole('button', { name: `Actions for ${s.remove}`, exact: true }).click()
    await page.getByRole('menuitem', { name: 'Delete…' }).click()
    const del = page.getByRole('dialog', { name: 'Delete folder?' })
    r.deleteMessage = await del.textContent()
    await del.getByRole('button', { name: 'Delete', exact: true }).click()
    await waitListed(page, s.remove, false)
    r.afterDelete = await names(page)
    // What the server lists now, as the page would see after a reload.
    await open(page, s.url)
    r.afterReload = await names(page)
  },

  async drop(page, s, r) {
    await open(page, s.url)
    // A drop of File objects made in the page. Only files: a dropped folder needs
    // FileSystemDirectoryEntry objects, which a script cannot make (webkitGetAsEntry of a
    // synthetic DataTransfer item has no directory behind it).
    const dt = await page.evaluateHandle((files) => {
      const dt = new DataTransfer()
      for (const f of files) {
        let bytes
        if (f.text !== undefined) bytes = new TextEncoder().encode(f.text)
        else {
          bytes = new Uint8Array(f.size)
          for (let i = 0; i < f.size; i++) bytes[i] = (i * 31 + (i >>> 11) + f.seed) & 255
        }
        dt.items.add(new File([bytes], f.name, { type: 'application/octet-stream' }))
      }
      return dt
    }, s.files)
    await page.dispatchEvent('main', 'dragenter', { dataTransfer: dt })
    await page.dispatchEvent('main', 'dragover', { dataTransfer: dt })
    r.overlay = await page.locator('.drop').isVisible()
    r.overlayText = await page.locator('.drop-text').textContent()
    await page.dispatchEvent('main', 'drop', { dataTransfer: dt })
    r.statuses = []
    for (const f of s.files) r.statuses.push(await waitUploaded(page, f.name, s.waitMs))
    for (const f of s.files) await waitListed(page, f.name)
    r.listed = await names(page)
  },

  async zip(page, s, r) {
    await open(page, s.url)
    await page.getByRole('button', { name: 'Download', exact: true }).click()
    const item = page.getByRole('menuitem', { name: 'This folder as ZIP' })
    r.href = await item.getAttribute('href')
    const download = page.waitForEvent('download')
    await item.click()
    const d = await download
    r.suggested = d.suggestedFilename()
    r.failure = await d.failure()
    await d.saveAs(s.out)
  },

  async readonly(page, s, r) {
    await open(page, s.url)
    r.dataReadOnly = await page.evaluate(() => document.body.dataset.readOnly)
    const count = (role, name) => page.getByRole(role, { name, exact: true }).count()
    r.buttons = {
      upload: await count('button', 'Upload'),
      newFolder: await count('button', 'New folder'),
      download: await count('button', 'Download'),
    }
    r.sortSelect = await page.getByRole('combobox', { name: 'Sort by' }).count()
    await page.getByRole('button', { name: `Actions for ${s.file}`, exact: true }).click()
    r.rowMenu = await page.getByRole('menuitem').allTextContents()
    await page.keyboard.press('Escape')
    // A drop is taken (the browser must not open the file) but uploads nothing.
    const dt = await page.evaluateHandle((name) => {
      const dt = new DataTransfer()
      dt.items.add(new File(['dropped'], name))
      return dt
    }, s.dropName)
    for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('main', type, { dataTransfer: dt })
    await page.waitForTimeout(500)
    r.uploadsShown = await page.getByRole('region', { name: 'Uploads' }).isVisible()
  },

  async auth(page, s, r) {
    r.responses = []
    page.on('response', (q) => r.responses.push(`${q.request().method()} ${q.status()}`))
    page.on('requestfailed', (q) => r.responses.push(`${q.method()} failed: ${q.failure()?.errorText}`))
    await open(page, s.url)
    r.dataAuth = await page.evaluate(() => document.body.dataset.auth)
    await chooseFiles(page, { name: s.fileName, mimeType: 'text/plain', buffer: Buffer.from(s.text) })
    const signIn = page.getByRole('dialog', { name: 'Sign in to change files' })
    const fill = async (user, password) => {
      await signIn.getByLabel('User name').fill(user)
      await signIn.getByLabel('Password').fill(password)
      await signIn.getByRole('button', { name: 'Sign in' }).click()
    }
    await signIn.waitFor()
    r.firstMessage = await signIn.locator('.dlg-msg').textContent()
    if (s.wrong) {
      await fill(s.user, s.wrong)
      // Refused: asked again, saying so.
      await signIn.getByText('was not accepted').waitFor()
      r.secondMessage = await signIn.locator('.dlg-msg').textContent()
    }
    await fill(s.user, s.password)
    r.status = await waitUploaded(page, s.fileName, s.waitMs)
    await waitListed(page, s.fileName)
    r.listed = await names(page)
  },
  async many(page, s, r) {
    const t = Date.now()
    await open(page, s.url)
    r.loadMs = Date.now() - t
    const domRows = () => page.evaluate(() => document.querySelectorAll('.rows [role=row]').length)
    r.count = await page.locator('.count').textContent()
    r.rowCount = await page.evaluate(() => document.querySelector('[role=grid]').getAttribute('aria-rowcount'))
    r.domRows = await domRows()
    r.first = (await names(page)).slice(0, 3)
    // End, from the page (nothing focused): the last row, scrolled to and selected.
    await page.evaluate(() => document.activeElement?.blur())
    await page.keyboard.press('End')
    await waitListed(page, s.last)
    r.afterEnd = (await names(page)).slice(-3)
    r.selected = await page.evaluate(() => document.querySelector('.rows [role=row][aria-selected=true] [role=rowheader] a')?.textContent ?? null)
    r.scrolled = await page.evaluate(() => scrollY)
    r.domRowsAfterEnd = await domRows()
    // The filter box: the names containing s.filter, and the summary says "N of M".
    await page.getByRole('searchbox', { name: 'Filter names (/)' }).fill(s.filter)
    await page.waitForFunction(() => document.querySelector('.count').textContent.includes(' of '))
    r.filterCount = await page.locator('.count').textContent()
    r.filtered = await names(page)
    r.domRowsFiltered = await domRows()
  },
}

async function runScenario(browser, s) {
  const r = { error: '', console: [], pageErrors: [], nativeDialogs: 0 }
  const t = Date.now()
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } })
  try {
    const page = await context.newPage()
    page.setDefaultTimeout(s.stepMs ?? 15000)
    page.on('console', (m) => { if (m.type() === 'error') r.console.push(m.text()) })
    page.on('pageerror', (e) => r.pageErrors.push(String(e)))
    // alert(), confirm(), the browser's own prompts: the page never opens one.
    page.on('dialog', (d) => { r.nativeDialogs++; d.dismiss().catch(() => {}) })
    await kinds[s.kind](page, s, r)
  } catch (err) {
    r.error = err && err.stack ? err.stack : String(err)
  } finally {
    await context.close().catch(() => {})
  }
  r.ms = Date.now() - t
  log(`${s.name}: ${r.error ? 'FAILED' : 'ok'} in ${r.ms} ms`)
  return r
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'))
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
  const out = { chromiumMs: Date.now() - t0, scenarios: {} }
  log(`chromium started in ${out.chromiumMs} ms`)
  try {
    for (const s of spec.scenarios) out.scenarios[s.name] = await runScenario(browser, s)
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

'use strict'
// What every Chromium driver here starts with: its options (--chromium PATH, --timeout-ms MS),
// playwright-core (from NODE_PATH or ../tus/node_modules, where scripts/lib.sh installs it),
// and a timer that bounds the whole run, browser start included.
//
//   const cli = require('./cli.cjs')('page.cjs', 120000)  // name in messages, default timeout
//   if (cli.failed) return
//   const { die, chromium, chromiumPath, timeoutMs, args, timer } = cli
//
// Exit status on the way: 2 on a bad option or a missing module, 3 when the timer fires.
const path = require('node:path')

module.exports = function cli(name, defaultTimeoutMs) {
  const die = (code, message) =>
    process.stderr.write(`${name}: ${message}\n`, () => process.exit(code))
  const args = process.argv.slice(2)
  let chromiumPath = '/usr/bin/chromium'
  let timeoutMs = defaultTimeoutMs
  while (args.length && args[0].startsWith('--')) {
    const opt = args.shift()
    const value = args.shift()
    if (opt === '--chromium' && value) chromiumPath = value
    else if (opt === '--timeout-ms' && Number(value) > 0) timeoutMs = Number(value)
    else {
      die(2, `usage: bad option ${opt} ${value ?? ''}`)
      return { failed: true }
    }
  }
  let chromium
  try {
    const paths = [path.join(__dirname, '..', 'tus')]
    chromium = require(require.resolve('playwright-core', { paths })).chromium
  } catch (err) {
    die(2, `playwright-core not found (NODE_PATH or ../tus/node_modules): ${err.message}`)
    return { failed: true }
  }
  const timer = setTimeout(() => die(3, `timed out after ${timeoutMs} ms`), timeoutMs)
  return { die, chromium, chromiumPath, timeoutMs, args, timer }
}

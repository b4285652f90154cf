'use strict'
// Uploads one file to httpfs with tus-js-client speaking draft-ietf-httpbis-resumable-upload
// (protocol 'ietf-draft-05', Upload-Draft-Interop-Version: 6), through a TCP proxy of its own
// that can drop the connection in the middle of the upload, so that the client has to ask the
// server for the offset (HEAD) and resume.
//
//   node upload.cjs --port PORT --target /dir/file.bin --source FILE
//                  [--chunk-size BYTES] [--cut-at BYTES[,BYTES...]] [--data-during-creation]
//                  [--timeout-ms MS]
//
// --cut-at: thresholds in bytes sent client -> server through the proxy, counted over all its
// connections; when the count reaches one, the proxy forwards exactly up to it, then drops the
// connection carrying it: the client's socket is destroyed (the client sees a reset), the
// server's gets what went before the cut and a FIN. Each threshold cuts once.
//
// Prints one JSON line on stdout: {ok, error?, size, endpoint, url, cuts, bytesForwarded,
// connections, requests, retries}. Exit status: 0 on onSuccess, 1 on onError, 2 on bad arguments or a
// missing module, 3 when the overall timer fires first.

const fs = require('node:fs')
const net = require('node:net')
const { parseArgs } = require('node:util')

let report = { ok: false }
let finished = false

function finish(code, extra) {
  if (finished) return
  finished = true
  report = { ...report, ...extra }
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(code))
}

let args
try {
  args = parseArgs({
    options: {
      port: { type: 'string' },
      target: { type: 'string' },
      source: { type: 'string' },
      'chunk-size': { type: 'string', default: '524288' },
      'cut-at': { type: 'string', default: '' },
      'data-during-creation': { type: 'boolean', default: false },
      'timeout-ms': { type: 'string', default: '60000' },
    },
  }).values
  if (!args.port || !args.target || !args.source) throw new Error('--port, --target and --source are required')
} catch (err) {
  finish(2, { error: `usage: ${err.message}` })
  return
}

let tus
try {
  tus = require('tus-js-client')
} catch (err) {
  finish(2, { error: `tus-js-client not found: ${err.message}` })
  return
}

// What the client saw answered, and the errors it retried after.
const requests = []
const retries = []
const proxyState = { bytesForwarded: 0, connections: 0, cuts: [] }
const snapshot = () => ({
  cuts: proxyState.cuts,
  bytesForwarded: proxyState.bytesForwarded,
  connections: proxyState.connections,
  requests,
  retries,
})

const timeoutMs = Number(args['timeout-ms'])
setTimeout(() => finish(3, { error: `timed out after ${timeoutMs} ms`, ...snapshot() }), timeoutMs)

// ---- request tracking: which request a cut landed in, and how much of its body went -------

// Follows the requests in one connection's client -> server bytes (heads and Content-Length
// bodies; a chunked body is counted as body to the end of the connection).
class RequestTracker {
  constructor() {
    this.head = Buffer.alloc(0)
    this.mode = 'head'
    this.remaining = 0
    this.current = null
  }

  feed(buf) {
    while (buf.length > 0) {
      if (this.mode === 'head') {
        this.head = Buffer.concat([this.head, buf])
        const end = this.head.indexOf('\r\n\r\n')
        if (end < 0) return
        const lines = this.head.subarray(0, end).toString('latin1').split('\r\n')
        buf = this.head.subarray(end + 4)
        this.head = Buffer.alloc(0)
        const [method, path] = lines[0].split(' ')
        const headers = {}
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':')
          if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
        }
        this.current = {
          method,
          path,
          uploadOffset: headers['upload-offset'] === undefined ? null : Number(headers['upload-offset']),
          uploadComplete: headers['upload-complete'] ?? null,
          contentLength: headers['content-length'] === undefined ? null : Number(headers['content-length']),
          chunked: /chunked/i.test(headers['transfer-encoding'] ?? ''),
          bodyForwarded: 0,
        }
        if (this.current.chunked) {
          this.mode = 'opaque'
        } else {
          this.remaining = this.current.contentLength ?? 0
          this.mode = this.remaining > 0 ? 'body' : 'head'
        }
      } else if (this.mode === 'body') {
        const n = Math.min(this.remaining, buf.length)
        this.current.bodyForwarded += n
        this.remaining -= n
        buf = buf.subarray(n)
        if (this.remaining === 0) this.mode = 'head'
      } else {
        this.current.bodyForwarded += buf.length
        return
      }
    }
  }
}

// ---- the cutting proxy ---------------------------------------------------------------------

const plan = args['cut-at']
  .split(',')
  .filter((s) => s !== '')
  .map(Number)
  .sort((a, b) => a - b)

function startProxy(targetPort) {
  // While a cut connection is still closing, new connections wait: the server must have read
  // everything that went before the cut (up to our FIN) before the client can ask it for the
  // offset, or the answer would depend on who wins the race.
  let gate = Promise.resolve()

  const server = net.createServer({ allowHalfOpen: true }, async (client) => {
    const id = ++proxyState.connections
    client.on('error', () => client.destroy())
    await gate
    if (client.destroyed) return
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true })
    const tracker = new RequestTracker()
    let dead = false
    const kill = () => {
      if (dead) return
      dead = true
      client.destroy()
      upstream.destroy()
    }
    client.on('error', kill)
    upstream.on('error', kill)
    client.on('close', () => {
      if (!dead) upstream.end()
    })
    upstream.on('close', () => {
      if (!dead) client.end()
    })
    client.on('end', () => {
      if (!dead) upstream.end()
    })
    upstream.pipe(client)

    const cut = (piece, record) => {
      dead = true
      client.destroy()
      // What went before the cut reaches the server, then a FIN; whatever the server still
      // says is read and dropped (unread bytes would make our close a reset, and a reset
      // throws away what the server has received and not read yet).
      upstream.unpipe(client)
      upstream.on('data', () => {})
      upstream.resume() // the pipe may have paused it, for the client that is gone
      const cutAt = Date.now()
      gate = new Promise((resolve) => {
        const timer = setTimeout(() => {
          record.serverClosed = 'no: the proxy gave up after 5000 ms'
          upstream.destroy()
        }, 5000)
        upstream.once('end', () => {
          record.serverClosed = `after ${Date.now() - cutAt} ms`
        })
        upstream.once('close', () => {
          clearTimeout(timer)
          resolve()
        })
      })
      upstream.end(piece)
    }

    client.on('data', (chunk) => {
      if (dead) return
      if (plan.length > 0 && proxyState.bytesForwarded + chunk.length >= plan[0]) {
        const threshold = plan.shift()
        const piece = chunk.subarray(0, threshold - proxyState.bytesForwarded)
        tracker.feed(piece)
        proxyState.bytesForwarded += piece.length
        const record = {
          threshold,
          connection: id,
          // The request the cut fell in: its body when phase is 'body', else the last one
          // whose head went through.
          phase: tracker.mode,
          request: tracker.current === null ? null : { ...tracker.current },
          // When the server closed its side after the FIN (it must, having read it).
          serverClosed: null,
          // The offset the next HEAD reported (cuts in a PATCH only).
          resumedAt: null,
        }
        proxyState.cuts.push(record)
        cut(piece, record)
        return
      }
      tracker.feed(chunk)
      proxyState.bytesForwarded += chunk.length
      if (!upstream.write(chunk)) {
        client.pause()
        upstream.once('drain', () => client.resume())
      }
    })
  })
  return new Promise((resolve, reject) => {
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

// ---- the upload ----------------------------------------------------------------------------

async function main() {
  const size = fs.statSync(args.source).size
  const proxy = await startProxy(Number(args.port))
  const endpoint = `http://127.0.0.1:${proxy.address().port}${args.target}`
  report = { ok: false, size, endpoint }

  // A Buffer, not an fs.ReadStream: tus-js-client 4.3.1 marks a ReadStream's slice as the
  // last one only when it covers the whole file, so its last PATCH says Upload-Complete: ?0
  // and the upload, by the draft, never completes (while the client reports success).
  const upload = new tus.Upload(fs.readFileSync(args.source), {
    endpoint,
    protocol: 'ietf-draft-05',
    chunkSize: Number(args['chunk-size']),
    uploadDataDuringCreation: args['data-during-creation'],
    retryDelays: [0, 100, 200, 400, 800, 1600],
    onAfterResponse: (req, res) => {
      const entry = {
        method: req.getMethod(),
        url: req.getURL(),
        requestOffset: req.getHeader('Upload-Offset') ?? null,
        requestComplete: req.getHeader('Upload-Complete') ?? null,
        status: res.getStatus(),
        uploadOffset: res.getHeader('Upload-Offset') ?? null,
        uploadComplete: res.getHeader('Upload-Complete') ?? null,
        uploadLength: res.getHeader('Upload-Length') ?? null,
        location: res.getHeader('Location') ?? null,
      }
      requests.push(entry)
      if (entry.method === 'HEAD' && entry.uploadOffset !== null) {
        const cut = proxyState.cuts.find((c) => c.resumedAt === null && c.request?.method === 'PATCH')
        if (cut) cut.resumedAt = Number(entry.uploadOffset)
      }
    },
    onShouldRetry: (err, attempt) => {
      const status = err.originalResponse ? err.originalResponse.getStatus() : 0
      const retry = !(status >= 400 && status < 500) || status === 409 || status === 423
      retries.push({ attempt, status, retry, message: String(err.message).split('\n')[0] })
      return retry
    },
    onError: (err) => {
      proxy.close()
      finish(1, { ok: false, error: String(err), url: upload.url, ...snapshot() })
    },
    onSuccess: () => {
      proxy.close()
      finish(0, { ok: true, url: upload.url, ...snapshot() })
    },
  })
  upload.start()
}

main().catch((err) => finish(1, { ok: false, error: `setup failed: ${err.stack || err}` }))

// Pure helpers of the browser page (app.js): no DOM, no network, no globals but the
// language's own, so that node's test runner can check them (tests/ui/lib.test.mjs).

// ---- names ---------------------------------------------------------------------------

// A sort and filter key: case and accents folded ("Été" ~ "ete"), so that natural order
// and the filter box behave as people expect. Computed once per entry, not per comparison.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
export function foldName(name) {
  if (PRINTABLE_ASCII.test(name)) return name.toLowerCase(); // most names: much faster
  return name.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

const isDigit = (c) => c >= 48 && c <= 57;

// Natural order of two folded keys: digit runs compare by value ("file2" < "file10"), the
// rest by code point. Equal values with different leading zeros order the shorter run
// first ("1" < "01"), so that the order is total and the same on every machine.
export function compareFolded(a, b) {
  let i = 0;
  let j = 0;
  let zeros = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ea = i;
      let eb = j;
      while (ea < a.length && isDigit(a.charCodeAt(ea))) ea++;
      while (eb < b.length && isDigit(b.charCodeAt(eb))) eb++;
      let za = i;
      let zb = j;
      while (za < ea - 1 && a.charCodeAt(za) === 48) za++;
      while (zb < eb - 1 && b.charCodeAt(zb) === 48) zb++;
      // Without leading zeros, a longer run is a larger number (no parseInt: no overflow).
      if (ea - za !== eb - zb) return ea - za - (eb - zb);
      for (let k = 0; k < ea - za; k++) {
        const d = a.charCodeAt(za + k) - b.charCodeAt(zb + k);
        if (d !== 0) return d;
      }
      if (zeros === 0) zeros = ea - i - (eb - j);
      i = ea;
      j = eb;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  return a.length - i - (b.length - j) || zeros;
}

const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// Natural, case-insensitive order of two names; names that fold alike still order
// deterministically (by code point), so a sort is the same whatever the input order.
export function naturalCompare(a, b) {
  return compareFolded(foldName(a), foldName(b)) || byCodePoint(a, b);
}

// The extension that names a file's type: "tar.gz" for "x.tar.gz", "" for ".bashrc" or "x".
export function extension(name) {
  const lower = name.toLowerCase();
  const m = /\.(tar\.(?:gz|bz2|xz|zst))$/.exec(lower) || /[^.]\.([^.]+)$/.exec(lower);
  return m ? m[1] : '';
}

// What the page shows for a name: control characters as their visible Control Pictures
// ("a\nb" -> "a␊b") and bidirectional formatting characters as U+FFFD, so that a name
// can neither break a line nor reorder itself ("evil\u202Egpj.exe" would read "evilexe.jpg").
export function displayName(name) {
  return name
    .replace(/[\u0000-\u001f]/g, (c) => String.fromCharCode(0x2400 + c.charCodeAt(0)))
    .replace(/\u007f/g, '\u2421')
    .replace(/[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

// Why a name typed by the user cannot be a file name here, or '' when it can.
export function nameProblem(name) {
  if (name.length === 0) return 'A name is needed.';
  if (name === '.' || name === '..') return 'A name cannot be “.” or “..”.';
  if (name.includes('/')) return 'A name cannot contain “/”.';
  if (name.includes('\0')) return 'A name cannot contain a NUL character.';
  if (new TextEncoder().encode(name).length > 255) return 'That name is too long (255 bytes at most).';
  return '';
}

// ---- URLs ----------------------------------------------------------------------------

// Replaces lone UTF-16 surrogates (possible in a File's name) with U+FFFD: they have no UTF-8.
function wellFormed(s) {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

// One name as one path segment: UTF-8, percent-encoded except the unreserved characters and
// the sub-delimiters that mean nothing in a path (the server's own set, src/http/chars.hpp,
// without ':', which would read as a scheme at the start of a relative reference). '%', '?',
// '#', '/', '\', quotes, ';', spaces and controls are always encoded. ("." and ".." cannot
// be names: URL parsers take them, even as %2E, for dot segments; nameProblem refuses them.)
export function encodeName(name) {
  return encodeURIComponent(wellFormed(String(name))).replaceAll("'", '%27')
    .replace(/%(24|26|2B|2C|3D|40)/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

// Decodes one segment for display; a segment that is not UTF-8 stays as it is.
export function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// An encoded path for display: "/a%20b/" -> "/a b/", control and bidi characters visible.
export function displayPath(path) {
  return path.split('/').map((s) => displayName(decodeSegment(s))).join('/');
}

// `dir` (an encoded path ending in '/') + one name; a folder's URL ends in '/'.
export function joinPath(dir, name, isDir = false) {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return base + encodeName(name) + (isDir ? '/' : '');
}

// The folder that holds `path` ("/a/b/" and "/a/b" -> "/a/"); "/" for the root.
export function parentPath(path) {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const cut = trimmed.lastIndexOf('/');
  return cut <= 0 ? '/' : trimmed.slice(0, cut + 1);
}

// The breadcrumbs of a folder's encoded path: [{name, href}], the root first (name '').
export function breadcrumbs(path) {
  const crumbs = [{ name: '', href: '/' }];
  let href = '/';
  for (const segment of path.split('/').filter(Boolean)) {
    href += `${segment}/`;
    crumbs.push({ name: decodeSegment(segment), href });
  }
  return crumbs;
}

// Where a rename or move of `name` (in folder `dir`, encoded) should go, from what the user
// typed: a new name ("b.txt"), or a path with '/' ("../old/", "/archive/b.txt", "sub/"), in
// which a trailing '/' (or a last "." or "..") means "into that folder, keeping the name".
// Returns {path} (encoded, a folder's ending in '/') or {error}.
export function resolveDestination(input, dir, name, isDir) {
  if (!input.includes('/') && input !== '.' && input !== '..') {
    const problem = nameProblem(input);
    return problem ? { error: problem } : { path: joinPath(dir, input, isDir) };
  }
  const parts = input.split('/');
  const last = parts[parts.length - 1];
  const intoFolder = last === '' || last === '.' || last === '..';
  const stack = input.startsWith('/') ? [] : dir.split('/').filter(Boolean);
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return { error: 'That path leads above the top folder.' };
      stack.pop();
      continue;
    }
    const problem = nameProblem(part);
    if (problem) return { error: problem };
    stack.push(encodeName(part));
  }
  if (intoFolder) stack.push(encodeName(name));
  return { path: `/${stack.join('/')}${isDir ? '/' : ''}` };
}

// A listing's "link" if it is what the server makes (an absolute path of this origin),
// else the link made from the name: a link is assigned to href, so it must never be able
// to name another origin ("//host") or scheme ("javascript:").
export function safeLink(link, dir, name, isDir) {
  if (typeof link === 'string' && /^\/(?![/\\])[^\s\\]*$/.test(link)) return link;
  return joinPath(dir, name, isDir);
}

// A URL as one shell word (single quotes; a quote inside becomes '\'').
export function shellQuote(s) {
  return `'${String(s).replaceAll("'", "'\\''")}'`;
}

// The value of an Authorization header for HTTP Basic (RFC 7617: UTF-8).
export function basicAuth(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

// ---- sizes, dates, durations -----------------------------------------------------------

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

// 1536 -> "1.5 KiB": one decimal below 10, none above (as the server's plain listing does).
export function humanSize(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${Math.round(n)} B`;
  let u = 0;
  let v = n;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  // Decide the decimals on the rounded value: 9.96 KiB is "10 KiB", 1023.7 KiB is "1.0 MiB".
  if (Math.round(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const text = v < 9.95 ? v.toFixed(1) : String(Math.round(v));
  return `${text} ${UNITS[u]}`;
}

// 1234567 -> "1,234,567" (no Intl: the same on every machine).
export function groupDigits(n) {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function exactSize(n) {
  return n === 1 ? '1 byte' : `${groupDigits(n)} bytes`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// The calendar fields of `ms` at a UTC offset of `offsetMin` minutes.
function fields(ms, offsetMin) {
  const d = new Date(ms + offsetMin * 60000);
  return {
    y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(),
    h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(),
  };
}

// "2024-05-01": the short date, year first (unambiguous in every locale).
export function shortDate(ms, offsetMin = 0) {
  const f = fields(ms, offsetMin);
  return `${f.y}-${pad(f.mo)}-${pad(f.d)}`;
}

// "2024-05-01 14:00:00 UTC+02:00": for a tooltip.
export function exactDate(ms, offsetMin = 0) {
  const f = fields(ms, offsetMin);
  const sign = offsetMin < 0 ? '-' : '+';
  const off = Math.abs(offsetMin);
  return `${shortDate(ms, offsetMin)} ${pad(f.h)}:${pad(f.mi)}:${pad(f.s)} ` +
    `UTC${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
}

// "just now", "5 minutes ago", "3 hours ago", "yesterday", "12 days ago"; beyond 30 days,
// or in the future (another machine's clock), the short date.
export function relativeDate(ms, nowMs, offsetMin = 0) {
  const s = (nowMs - ms) / 1000;
  if (!Number.isFinite(s) || s < -60 || s >= 30 * 86400) return shortDate(ms, offsetMin);
  const n = (v, unit) => `${v} ${unit}${v === 1 ? '' : 's'} ago`;
  if (s < 60) return 'just now';
  if (s < 3600) return n(Math.floor(s / 60), 'minute');
  if (s < 86400) return n(Math.floor(s / 3600), 'hour');
  if (s < 2 * 86400) return 'yesterday';
  return n(Math.floor(s / 86400), 'day');
}

// 3725 -> "1 h 2 min": an upload's time left.
export function humanDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// ---- kinds ---------------------------------------------------------------------------

const KINDS = {
  image: 'png jpg jpeg gif webp avif svg bmp ico tif tiff heic heif jxl',
  video: 'mp4 m4v webm mkv mov avi wmv mpg mpeg ogv 3gp ts',
  audio: 'mp3 m4a aac flac wav ogg oga opus wma mid midi aiff',
  pdf: 'pdf',
  archive: 'zip tar gz tgz bz2 xz zst 7z rar iso dmg tar.gz tar.bz2 tar.xz tar.zst deb rpm apk jar',
  code: 'js mjs cjs ts tsx jsx c h cc cpp hpp cxx py rb go rs java kt swift php sh bash zsh ' +
    'pl lua sql html htm css scss json xml yaml yml toml ini wasm ipynb',
  doc: 'doc docx odt rtf pages epub',
  sheet: 'xls xlsx ods csv tsv numbers',
  slides: 'ppt pptx odp key',
  text: 'txt md markdown log rst tex srt vtt nfo conf cfg diff patch',
};
const KIND_OF = new Map();
for (const [kind, list] of Object.entries(KINDS)) for (const ext of list.split(' ')) KIND_OF.set(ext, kind);

// The icon of an entry: "folder", one of the keys above, or "file".
export function iconKind(name, type) {
  if (type === 'directory') return 'folder';
  return KIND_OF.get(extension(name)) || 'file';
}

// Types a browser shows itself when its link is followed (by the Content-Type the server
// sends); the others get a `download` attribute, so that following them stays on the page.
const VIEWABLE = new Set(['image', 'video', 'audio', 'pdf', 'text']);
const VIEWABLE_EXT = new Set(['html', 'htm', 'json', 'xml', 'css', 'js', 'mjs', 'svg']);
export function viewable(name) {
  return VIEWABLE.has(iconKind(name, 'file')) || VIEWABLE_EXT.has(extension(name));
}

// ---- sorting and filtering -------------------------------------------------------------

export const SORT_KEYS = ['name', 'size', 'mtime', 'type'];

// ?sort=&order= of a query string, checked; the defaults are name, ascending.
export function sortFromQuery(search) {
  const q = new URLSearchParams(search);
  const sort = SORT_KEYS.includes(q.get('sort')) ? q.get('sort') : 'name';
  const order = q.get('order') === 'desc' ? 'desc' : 'asc';
  return { sort, order };
}

// `search` with sort and order set (dropped when they are the defaults); other parameters
// are kept.
export function queryWithSort(search, sort, order) {
  const q = new URLSearchParams(search);
  q.delete('sort');
  q.delete('order');
  if (sort !== 'name') q.set('sort', sort);
  if (order !== 'asc') q.set('order', order);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Entries of a listing made ready for the page: folded key, time and kind computed once.
export function prepareEntries(listing, dir) {
  const out = [];
  for (const e of Array.isArray(listing?.entries) ? listing.entries : []) {
    if (typeof e?.name !== 'string' || e.name === '') continue;
    const isDir = e.type === 'directory';
    out.push({
      name: e.name,
      isDir,
      size: isDir ? 0 : Number(e.size) || 0,
      mtime: Date.parse(e.mtime) || 0,
      link: safeLink(e.link, dir, e.name, isDir),
      key: foldName(e.name),
      ext: isDir ? '' : extension(e.name),
    });
  }
  return out;
}

// Sorts prepared entries in place: folders first whatever the order, then by the key (the
// name breaks ties, always ascending), then by code point. Array#sort is stable.
export function sortEntries(entries, sort = 'name', order = 'asc') {
  const dir = order === 'desc' ? -1 : 1;
  const byName = (a, b) => compareFolded(a.key, b.key) || byCodePoint(a.name, b.name);
  const primary = {
    name: () => 0,
    size: (a, b) => a.size - b.size,
    mtime: (a, b) => a.mtime - b.mtime,
    type: (a, b) => compareFolded(a.ext, b.ext),
  }[sort] || (() => 0);
  return entries.sort((a, b) => {
    if (a.isDir !== b.isDir) return a.isDir ? -1 : 1;
    const p = primary(a, b);
    if (p !== 0) return p * dir;
    return sort === 'name' ? byName(a, b) * dir : byName(a, b);
  });
}

// Entries whose folded name contains the folded query (case- and accent-insensitive).
export function filterEntries(entries, query) {
  const q = foldName(query.trim());
  return q ? entries.filter((e) => e.key.includes(q)) : entries;
}

// ---- uploads -------------------------------------------------------------------------

export const MiB = 1024 * 1024;
export const CHUNK_MIN = 4 * MiB;
export const CHUNK_START = 8 * MiB;
export const CHUNK_MAX = 128 * MiB;

// The next request of an upload at `offset` of `size` bytes: [start, end) and whether it
// completes the upload. A file of 0 bytes is one empty, completing request.
export function nextChunk(offset, size, chunk = CHUNK_START) {
  const start = Math.min(Math.max(0, offset), size);
  const end = Math.min(size, start + Math.max(1, chunk));
  return { start, end, last: end === size };
}

// The byte ranges of a whole upload from `offset`, for a plan shown or tested at once.
export function chunkPlan(size, chunk = CHUNK_START, offset = 0) {
  const plan = [];
  for (let at = offset; ;) {
    const c = nextChunk(at, size, chunk);
    plan.push(c);
    if (c.last) return plan;
    at = c.end;
  }
}

// The size of the next chunk after one of `bytes` took `ms`: each request aims at about
// 4 seconds, so that a fast link is not slowed by a sync per 8 MiB and a slow one loses
// little when it drops; it grows by at most 2x per step and stays within the bounds.
export function adaptChunk(current, bytes, ms) {
  if (!(ms > 0) || !(bytes > 0)) return current;
  const ideal = (bytes / ms) * 4000;
  const next = Math.min(Math.max(ideal, current / 2), current * 2);
  return Math.min(CHUNK_MAX, Math.max(CHUNK_MIN, Math.round(next / MiB) * MiB));
}

// The wait before retry number `attempt` (1, 2, ...): 1 s doubling to 60 s, with up to 20%
// of jitter so that clients cut together do not come back together. `random` is Math.random.
export function backoffMs(attempt, random = Math.random) {
  const base = Math.min(60000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.2 * random()));
}

// Is an answer worth retrying as it is (the network, the server's load or a restart)?
export function retryable(status) {
  return status === 0 || status === 408 || status === 429 || status === 502 ||
    status === 503 || status === 504 || status === 500;
}

// A speed from (time ms, bytes) samples of the last `windowMs`: bytes per second, or 0.
export function rate(samples, windowMs = 5000) {
  if (samples.length < 2) return 0;
  const last = samples[samples.length - 1];
  let first = samples[0];
  for (const s of samples) {
    if (last.t - s.t <= windowMs) {
      first = s;
      break;
    }
  }
  const dt = last.t - first.t;
  return dt > 0 ? ((last.bytes - first.bytes) * 1000) / dt : 0;
}

// Why the server refused something, in words (its own error pages are HTML, not shown).
export function statusText(status) {
  return {
    0: 'The server cannot be reached.',
    400: 'The server refused the request (400).',
    401: 'Credentials are needed.',
    403: 'Not allowed here (403).',
    404: 'It is not there any more.',
    405: 'Something of that name is already there.',
    409: 'A folder in the path is missing or is a file.',
    412: 'Something of that name is already there.',
    413: 'Too large for this server.',
    415: 'The server refused the request (415).',
    423: 'It is locked (WebDAV).',
    429: 'Too many uploads at once; try again later.',
    502: 'Another server is in the way (502).',
    503: 'The server is busy; try again later.',
    507: 'There is not enough space on the server.',
  }[status] || `The server answered ${status}.`;
}

// httpfs: the browser page of a folder (issue 16). A thin client of the server's public
// protocols: every action it offers is also a curl command (the menus copy them).
//
// Contract with the server (the shell is written by src/server/ui.cpp):
// - GET <dir>/ with Accept: text/html and no ?format= answers a shell that loads
//   /.httpfs-ui/<version>/app.css and app.js (this file; lib.js and icons.svg are found
//   relative to it) and holds <div id="app">. <body> carries data-read-only ("true": no
//   write action is offered), data-auth ("none"; "writes": a write may answer 401, then the
//   page asks for a user and password and sends them as Basic, kept in memory for this tab
//   only; "all": the browser's own prompt already guarded the page) and data-version.
// - The folder is location.pathname (encoded, ending in '/'); the page's own query is
//   ?sort=name|size|mtime|type&order=asc|desc (history.replaceState).
// - The protocols used:
//     listing     GET <dir>?format=json        {"path", "entries": [{"name", "type", "size",
//                                               "mtime", "link"}]}  (src/io/dir_listing.hpp)
//     open        GET <link>; folders as archives: GET <dir>?download=zip | tar
//     new folder  MKCOL <dir><name>/           201; 405 when something is there
//     rename/move MOVE <link>  Destination: <absolute URL>  Overwrite: F (412: ask, then T)
//     delete      DELETE <link>                a folder with everything in it (204)
//     upload      PUT <dir><name>  Upload-Draft-Interop-Version: 8, Upload-Complete: ?0,
//                 Upload-Length, If-None-Match: * (unless replacing), empty body -> 201 with
//                 Location (/.httpfs-upload/<id>); then PATCH <Location> with Upload-Offset,
//                 Upload-Complete (?1 on the last part), Content-Type:
//                 application/partial-upload; after a cut HEAD <Location> -> Upload-Offset;
//                 cancel: DELETE <Location>. Files up to 8 MiB: one PUT, Upload-Complete: ?1.
// - The page runs under a CSP of default-src 'self' without 'unsafe-inline' or eval: no
//   inline script or style, and the DOM is built with createElement and textContent only,
//   so that no file name is ever parsed as HTML.

import {
  CHUNK_START, adaptChunk, backoffMs, basicAuth, breadcrumbs, decodeSegment, displayName, displayPath,
  encodeName, exactDate, exactSize, filterEntries, groupDigits, humanDuration, humanSize,
  iconKind, joinPath, nameProblem, nextChunk, parentPath, prepareEntries, queryWithSort, rate,
  relativeDate, resolveDestination, retryable, shellQuote, sortEntries, sortFromQuery,
  statusText, viewable,
} from './lib.js';

const ICONS = new URL('./icons.svg', import.meta.url).pathname;
const READ_ONLY = document.body.dataset.readOnly === 'true';
const AUTH = document.body.dataset.auth || 'none';
const PARALLEL_UPLOADS = 3;
const SMALL_FILE = CHUNK_START; // up to this size an upload is one PUT
const GIVE_UP_MS = 23 * 3600 * 1000; // the server keeps an idle upload 24 h (--upload-expiry)
const OVERSCAN = 10; // rows rendered beyond the visible ones

const state = {
  dir: '', // the folder shown: an encoded path ending in '/'
  entries: [], // prepared and sorted (lib.prepareEntries)
  names: new Map(), // name -> isDir, for conflicts known before asking the server
  view: [], // the entries the filter lets through
  stats: { dirs: 0, files: 0, bytes: 0 },
  sel: -1, // index of the selected row (rows = the parent row, if shown, then view)
  filter: '',
  ...sortFromQuery(location.search),
  loading: null, // AbortController of the listing being fetched
  loadedAt: 0,
  loadMs: 0,
  error: false,
};

// ---- DOM helpers ------------------------------------------------------------------------

// h('button', {class: 'btn', type: 'button', onclick: f}, 'text', node): attributes are set
// with setAttribute, strings become text nodes. Never innerHTML.
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c != null && c !== false) el.append(c);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function icon(name, cls = '') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', `icon ${cls}`.trim());
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `${ICONS}#${name}`);
  svg.append(use);
  return svg;
}

function setIcon(svg, name, cls) {
  svg.setAttribute('class', `icon ${cls}`);
  svg.firstChild.setAttribute('href', `${ICONS}#${name}`);
}

// A button with an icon and a label; the label is hidden on narrow screens (app.css) but
// stays the button's accessible name.
function button(iconName, label, onclick, extra = {}) {
  return h('button', { type: 'button', class: 'btn', onclick, ...extra },
    icon(iconName), h('span', { class: 'label' }, label));
}

const ui = {};

// Says something to screen readers (a polite live region).
function announce(text) {
  ui.live.textContent = '';
  setTimeout(() => { ui.live.textContent = text; }, 50);
}

function toast(text, { error = false } = {}) {
  const el = h('div', { class: `toast${error ? ' error' : ''}`, role: error ? 'alert' : null },
    icon(error ? 'alert' : 'check'), h('span', {}, text),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss', onclick: () => el.remove() },
      icon('x')));
  ui.toasts.append(el);
  while (ui.toasts.children.length > 3) ui.toasts.firstChild.remove();
  setTimeout(() => el.remove(), error ? 10000 : 4000);
}

const nameOf = (e) => `“${displayName(e.name ?? e)}”`;

// ---- dialogs ------------------------------------------------------------------------------

// One modal <dialog> at a time (questions from several uploads wait their turn). Resolves
// to {button, values} for a button whose value is not null, or null (Cancel, Escape).
// fields: [{name, label, type, value, autocomplete, selectBase}]; buttons: [{label, value,
// kind}] where the last one is the default (Enter), checked by validate(values) first.
let dialogChain = Promise.resolve();
function modal(opts) {
  const shown = dialogChain.then(() => showModal(opts));
  dialogChain = shown.catch(() => {});
  return shown;
}

let dialogSeq = 0;
function showModal({ title, message = [], fields = [], buttons, validate, focusCancel = false }) {
  return new Promise((resolve) => {
    const id = `dlg${++dialogSeq}`;
    const before = document.activeElement;
    const inputs = {};
    const error = h('p', { class: 'dlg-error', id: `${id}-err`, 'aria-live': 'assertive' });
    const form = h('form', { class: 'dlg-form', novalidate: true });
    const dlg = h('dialog', { class: 'dlg', 'aria-labelledby': `${id}-t`, 'aria-describedby': `${id}-m` }, form);
    form.append(h('h2', { id: `${id}-t` }, title),
      h('div', { id: `${id}-m`, class: 'dlg-msg' }, [message].flat().map((m) => (typeof m === 'string' ? h('p', {}, m) : m))));
    for (const f of fields) {
      const input = h('input', {
        id: `${id}-${f.name}`, name: f.name, type: f.type || 'text', autocomplete: f.autocomplete || 'off',
        spellcheck: 'false', 'aria-describedby': `${id}-err`,
      });
      if (f.type === 'checkbox') {
        form.append(h('label', { class: 'check' }, input, f.label));
      } else {
        input.value = f.value ?? '';
        form.append(h('label', { for: input.id }, f.label), input);
      }
      inputs[f.name] = input;
    }
    form.append(error);
    const values = () => Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.type === 'checkbox' ? i.checked : i.value]));
    let settled = false;
    const done = (result) => {
      if (settled) return;
      settled = true;
      dlg.close();
      dlg.remove();
      if (before && before.isConnected && before !== document.body) before.focus({ preventScroll: true });
      else ui.grid.focus({ preventScroll: true });
      resolve(result);
    };
    const row = h('div', { class: 'dlg-buttons' });
    const list = buttons || [{ label: 'Cancel', value: null }, { label: 'OK', value: 'ok', kind: 'primary' }];
    list.forEach((b, n) => {
      const isDefault = n === list.length - 1;
      const el = h('button', { type: isDefault ? 'submit' : 'button', class: `btn ${b.kind || ''}`.trim() }, b.label);
      if (!isDefault) el.addEventListener('click', () => done(b.value == null ? null : { button: b.value, values: values() }));
      row.append(el);
    });
    form.append(row);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = values();
      const problem = validate?.(v);
      if (problem) {
        error.textContent = problem;
        (Object.values(inputs)[0] || row.lastChild).focus();
        return;
      }
      done({ button: list[list.length - 1].value, values: v });
    });
    dlg.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      done(null);
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = Object.values(inputs)[0];
    if (focusCancel) row.firstChild.focus();
    else if (first && first.type !== 'checkbox') {
      first.focus();
      const f = fields[0];
      const dot = f.selectBase ? first.value.lastIndexOf('.') : -1;
      first.setSelectionRange(0, dot > 0 ? dot : first.value.length);
    } else row.lastChild.focus();
  });
}

async function confirmDanger(title, message, ok) {
  const r = await modal({ title, message, focusCancel: true,
    buttons: [{ label: 'Cancel', value: null }, { label: ok, value: 'ok', kind: 'danger' }] });
  return r !== null;
}

// ---- menus --------------------------------------------------------------------------------

// A menu of items [{label, icon, action} or {label, icon, href, download}, '-' a separator]
// next to `anchor`; arrows move, Escape closes and gives focus back.
let menu = null;
function openMenu(anchor, items, label, returnFocus = anchor) {
  if (menu?.anchor === anchor) return closeMenu(true); // a second click closes it
  closeMenu(false);
  const el = h('div', { class: 'menu', role: 'menu', 'aria-label': label });
  for (const it of items) {
    if (it === '-') {
      el.append(h('div', { role: 'separator', class: 'sep' }));
      continue;
    }
    const item = it.href
      ? h('a', { role: 'menuitem', tabindex: '-1', href: it.href, download: it.download })
      : h('button', { type: 'button', role: 'menuitem', tabindex: '-1' });
    if (it.danger) item.classList.add('danger');
    item.append(icon(it.icon), h('span', {}, it.label));
    item.addEventListener('click', (ev) => {
      if (!it.href) ev.preventDefault();
      closeMenu(!it.action);
      it.action?.();
    });
    el.append(item);
  }
  el.addEventListener('keydown', (ev) => {
    const all = [...el.querySelectorAll('[role=menuitem]')];
    const at = all.indexOf(document.activeElement);
    const go = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 }[ev.key];
    if (go !== undefined) {
      all[(go + all.length) % all.length].focus();
    } else if (ev.key === 'Escape' || ev.key === 'Tab') {
      closeMenu(true);
    } else if (ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey) {
      // A letter moves to the next item that starts with it.
      const k = ev.key.toLowerCase();
      const next = all.find((x, n) => n > at && x.textContent.toLowerCase().startsWith(k)) ||
        all.find((x) => x.textContent.toLowerCase().startsWith(k));
      next?.focus();
    } else return;
    ev.preventDefault();
    ev.stopPropagation();
  });
  document.body.append(el);
  const r = anchor.getBoundingClientRect();
  const w = el.offsetWidth;
  const ht = el.offsetHeight;
  el.style.left = `${Math.max(8, Math.min(r.right - w, innerWidth - w - 8))}px`;
  el.style.top = `${r.bottom + 4 + ht > innerHeight - 8 ? Math.max(8, r.top - ht - 4) : r.bottom + 4}px`;
  anchor.setAttribute('aria-expanded', 'true');
  menu = { el, anchor, returnFocus };
  el.querySelector('[role=menuitem]')?.focus();
}

function closeMenu(refocus) {
  if (!menu) return;
  const { el, anchor, returnFocus } = menu;
  menu = null;
  el.remove();
  anchor.setAttribute('aria-expanded', 'false');
  if (refocus && returnFocus?.isConnected) returnFocus.focus({ preventScroll: true });
}

document.addEventListener('pointerdown', (ev) => {
  if (menu && !menu.el.contains(ev.target) && !menu.anchor.contains(ev.target)) closeMenu(false);
});
addEventListener('resize', () => closeMenu(false));

// ---- requests -----------------------------------------------------------------------------

// Basic credentials for writes (data-auth="writes"), in memory only. `credGen` changes when
// they do, so that requests refused with the old ones retry without asking again.
let credentials = null;
let credGen = 0;
let asking = null;

function askCredentials(wrong) {
  asking ??= (async () => {
    for (let refused = wrong; ; refused = true) {
      const r = await modal({
        title: 'Sign in to change files',
        message: refused ? 'That user name or password was not accepted. Try again.'
          : 'This server needs a user name and password for changes. They are kept in this tab only.',
        fields: [
          { name: 'user', label: 'User name', autocomplete: 'username' },
          { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' },
        ],
        buttons: [{ label: 'Cancel', value: null }, { label: 'Sign in', value: 'ok', kind: 'primary' }],
        validate: (v) => (v.user.includes(':') ? 'A user name cannot contain “:”.' : ''),
      });
      if (!r) return false;
      const candidate = basicAuth(r.values.user, r.values.password);
      if (!(await accepted(candidate))) continue;
      credentials = candidate;
      credGen++;
      return true;
    }
  })().finally(() => { asking = null; });
  return asking;
}

// Credentials are tried with fetch() before anything else uses them: uploads go by
// XMLHttpRequest (for its progress), which cannot leave out the browser's own credentials,
// so a 401 to it opens the browser's prompt and never reaches the page. Every request under
// /.httpfs-upload/ is checked as a write, and an OPTIONS there changes nothing (204; an
// unreachable network is no verdict: the writes themselves will tell).
async function accepted(auth) {
  const res = await fetchSend('OPTIONS', '/.httpfs-upload/', { Authorization: auth }, null, undefined, true);
  return res.status !== 401;
}

const NETWORK_ERROR = Object.freeze({ status: 0, header: () => null, text: async () => '' });
const abortError = () => new DOMException('The request was cancelled.', 'AbortError');

// With data-auth="writes", writes go out without the browser's credentials (credentials:
// 'omit'), so that a 401 reaches the page instead of opening the browser's own prompt.
async function fetchSend(method, url, headers, body, signal, write) {
  try {
    const r = await fetch(url, {
      method, headers, body, signal, cache: 'no-store',
      credentials: write && AUTH === 'writes' ? 'omit' : 'same-origin',
    });
    return { status: r.status, header: (n) => r.headers.get(n), text: () => r.text() };
  } catch (err) {
    if (signal?.aborted) throw abortError();
    return NETWORK_ERROR;
  }
}

// XMLHttpRequest only for its upload progress. A request whose body stops moving for
// `stallMs` (a dead Wi-Fi link can leave a connection open for minutes), or whose answer
// does not come within 2 minutes of the last byte, ends as a network error.
function xhrSend(method, url, headers, body, signal, onProgress, stallMs = 45000) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const x = new XMLHttpRequest();
    let timer = 0;
    let stalled = false;
    const arm = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => { stalled = true; x.abort(); }, ms);
    };
    const onAbort = () => x.abort();
    const finish = (fn) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    x.open(method, url);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => {
      arm(stallMs);
      onProgress(e.loaded);
    };
    x.upload.onload = () => arm(120000);
    x.onload = () => finish(() => resolve({ status: x.status, header: (n) => x.getResponseHeader(n), text: async () => x.responseText }));
    x.onerror = () => finish(() => resolve(NETWORK_ERROR));
    x.onabort = () => finish(() => (stalled ? resolve(NETWORK_ERROR) : reject(abortError())));
    signal?.addEventListener('abort', onAbort);
    x.send(body);
    arm(stallMs);
  });
}

// One request: credentials added to writes once known; a 401 to a write asks for them (once
// for all the requests refused together) and retries. Network errors are status 0.
async function call(method, url, { headers = {}, body = null, signal, onProgress } = {}) {
  const write = method !== 'GET';
  // Writes need credentials here: ask before sending one that can only be refused.
  if (write && AUTH === 'writes' && !credentials && !(await askCredentials(false))) return { ...NETWORK_ERROR, status: 401 };
  for (;;) {
    const gen = credGen;
    const hs = credentials && write ? { ...headers, Authorization: credentials } : headers;
    const res = onProgress && (AUTH !== 'writes' || credentials)
      ? await xhrSend(method, url, hs, body, signal, onProgress)
      : await fetchSend(method, url, hs, body, signal, write);
    if (res.status !== 401 || !write || AUTH === 'all') return res;
    if (gen !== credGen) continue;
    if (!(await askCredentials(credentials !== null))) return res;
  }
}

const ok = (res) => res.status >= 200 && res.status < 300;
const absolute = (path) => new URL(path, location.origin).href;

// ---- the listing ----------------------------------------------------------------------------

const hasParent = () => state.dir !== '/' && !state.filter;
const rowCount = () => (hasParent() ? 1 : 0) + state.view.length;
const PARENT = { parent: true, name: '..', isDir: true };
function rowAt(i) {
  if (i < 0) return null;
  if (hasParent()) return i === 0 ? { ...PARENT, link: parentPath(state.dir) } : state.view[i - 1] ?? null;
  return state.view[i] ?? null;
}
const indexOfName = (name) => {
  const i = state.view.findIndex((e) => e.name === name);
  return i < 0 ? -1 : i + (hasParent() ? 1 : 0);
};

function currentDir() {
  const p = location.pathname;
  return p.endsWith('/') ? p : `${p}/`;
}

let loadTimer = 0;
async function load({ focusName = null, keepSelection = false } = {}) {
  const dir = currentDir();
  const moved = dir !== state.dir;
  const keep = keepSelection && !moved ? rowAt(state.sel)?.name : focusName;
  Object.assign(state, sortFromQuery(location.search));
  state.loading?.abort();
  const ctl = new AbortController();
  state.loading = ctl;
  if (moved) {
    state.dir = dir;
    state.entries = [];
    state.names = new Map();
    state.filter = '';
    ui.filter.value = '';
    state.sel = -1;
    state.error = false;
    renderCrumbs();
    applyView();
    scrollTo(0, 0);
  }
  renderUploads(); // the title: the folder, and the uploads' progress
  const began = performance.now();
  clearTimeout(loadTimer);
  loadTimer = setTimeout(() => { if (state.loading === ctl && !state.entries.length) showMessage('Loading…'); }, 300);
  ui.grid.setAttribute('aria-busy', 'true');
  let res;
  let listing;
  try {
    res = await fetch(`${dir}?format=json`, { headers: { Accept: 'application/json' }, cache: 'no-store', signal: ctl.signal });
    if (res.ok) listing = await res.json();
  } catch {
    if (ctl.signal.aborted) return;
  }
  if (state.loading !== ctl) return;
  state.loading = null;
  clearTimeout(loadTimer);
  ui.grid.setAttribute('aria-busy', 'false');
  if (!listing && keepSelection && !moved && state.entries.length) {
    // A refresh in the background: keep what is shown.
    return toast('The folder could not be refreshed. Reload the page to try again.', { error: true });
  }
  if (!listing) {
    state.error = true;
    state.entries = [];
    applyView();
    return showListingError(res ? res.status : 0);
  }
  state.error = false;
  state.entries = sortEntries(prepareEntries(listing, dir), state.sort, state.order);
  indexEntries();
  state.loadedAt = Date.now();
  state.loadMs = performance.now() - began;
  applyView({ selectName: keep, scroll: focusName !== null });
}

function indexEntries() {
  const s = { dirs: 0, files: 0, bytes: 0 };
  for (const e of state.entries) {
    if (e.isDir) s.dirs++;
    else {
      s.files++;
      s.bytes += e.size;
    }
  }
  state.stats = s;
  state.names = new Map(state.entries.map((e) => [e.name, e.isDir]));
}

function showListingError(status) {
  const text = {
    0: 'The server cannot be reached.',
    401: 'This folder needs a user name and password. Reload the page to sign in.',
    403: 'This server does not list its folders.',
    404: 'This folder does not exist (any more).',
  }[status] || `The folder could not be read (the server answered ${status}).`;
  showMessage(text, { error: true, actions: [
    button('retry', 'Try again', () => load()),
    state.dir !== '/' ? button('up', 'Parent folder', () => goParent()) : null,
  ] });
}

function showMessage(text, { error = false, actions = [] } = {}) {
  ui.message.replaceChildren(h('p', { role: error ? 'alert' : 'status' }, text), h('div', { class: 'msg-actions' }, actions));
  ui.message.hidden = false;
}

// Typing selects the first match, from the top of the list; clearing the filter keeps the
// entry selected last, in view.
function setFilter(value) {
  if (value === state.filter) return;
  const name = rowAt(state.sel)?.name;
  state.filter = value;
  ui.filter.value = value;
  if (value) {
    state.sel = -1;
    applyView();
    const top = ui.rows.getBoundingClientRect().top + scrollY - ui.head.getBoundingClientRect().bottom;
    if (scrollY > top) scrollTo(0, Math.max(0, top));
    renderRows();
  } else applyView({ selectName: name, scroll: true });
}

// Filters state.entries into state.view and renders; the selection follows a name when
// one is given, else stays where it was.
let viewGen = 0;
function applyView({ selectName = null, scroll = false } = {}) {
  const selected = selectName ?? rowAt(state.sel)?.name;
  state.view = filterEntries(state.entries, state.filter);
  viewGen++;
  const n = rowCount();
  let sel = selected != null ? indexOfName(selected) : -1;
  if (sel < 0 && state.filter && state.view.length) sel = 0;
  if (sel < 0 && state.sel >= 0) sel = Math.min(state.sel, n - 1);
  state.sel = sel;
  renderSummary();
  if (!state.error) {
    if (state.entries.length === 0 && !state.loading) {
      showMessage(READ_ONLY ? 'This folder is empty.' : 'This folder is empty. Drop files here, or use Upload.');
    } else if (state.view.length === 0 && state.filter) {
      showMessage(`No name here contains “${displayName(state.filter)}”.`);
    } else ui.message.hidden = true;
  }
  renderRows();
  if (scroll && sel >= 0) select(sel);
}

function renderSummary() {
  const { dirs, files, bytes } = state.stats;
  const total = state.entries.length;
  const parts = [];
  if (dirs) parts.push(`${groupDigits(dirs)} folder${dirs === 1 ? '' : 's'}`);
  if (files) parts.push(`${groupDigits(files)} file${files === 1 ? '' : 's'} (${humanSize(bytes)})`);
  ui.count.textContent = state.filter ? `${groupDigits(state.view.length)} of ${groupDigits(total)}` : parts.join(', ');
  ui.grid.setAttribute('aria-rowcount', String(rowCount() + 1));
  ui.grid.setAttribute('aria-label', `Contents of ${displayPath(state.dir)}`);
  ui.sortSelect.value = state.sort;
  const asc = state.order === 'asc';
  setIcon(ui.orderBtn.firstChild, asc ? 'sort-asc' : 'sort-desc', '');
  ui.orderBtn.setAttribute('aria-label', asc ? 'Ascending order' : 'Descending order');
  ui.orderBtn.title = asc ? 'Ascending (click for descending)' : 'Descending (click for ascending)';
  for (const [key, th] of Object.entries(ui.headers)) {
    if (key === state.sort) th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
}

function renderCrumbs() {
  const crumbs = breadcrumbs(state.dir);
  ui.crumbs.replaceChildren(...crumbs.map((c, n) => {
    const last = n === crumbs.length - 1;
    const a = h('a', { href: c.href + queryWithSort('', state.sort, state.order), 'aria-current': last ? 'page' : null });
    if (n === 0) a.append(icon('home'), h('span', { class: 'sr-only' }, `Top folder (${location.host})`));
    else a.append(displayName(c.name));
    a.addEventListener('click', (ev) => followFolderLink(ev, c.href));
    return h('li', {}, a);
  }));
  ui.nav.scrollLeft = ui.nav.scrollWidth;
}

// ---- virtual rows -----------------------------------------------------------------------------

// Only the rows in view (and the selected one) exist: a folder of 100 000 entries is a
// tall empty box with 40-odd rows placed in it, recycled as it scrolls.
let rowH = 40;
const pool = new Map(); // row index -> element
const spare = [];
let frame = 0;
const scheduleRows = () => { frame ||= requestAnimationFrame(() => { frame = 0; renderRows(); }); };

function measureRows() {
  const h0 = ui.probe.getBoundingClientRect().height || 40;
  if (Math.abs(h0 - rowH) > 0.1) {
    rowH = h0;
    viewGen++;
  }
  document.documentElement.style.setProperty('--top-h', `${ui.top.offsetHeight}px`);
  scheduleRows();
}

function makeRow() {
  const iconEl = icon('file');
  const link = h('a', { class: 'name', tabindex: '-1' });
  const size = h('span', { class: 'cell size', role: 'gridcell' });
  const date = h('span', { class: 'cell date', role: 'gridcell' });
  const more = h('button', { type: 'button', class: 'icon-btn more', tabindex: '-1', 'aria-haspopup': 'menu', 'aria-expanded': 'false' }, icon('more'));
  const el = h('div', { class: 'row', role: 'row' },
    h('span', { class: 'cell name-cell', role: 'rowheader' }, iconEl, link), size, date,
    h('span', { class: 'cell act', role: 'gridcell' }, more));
  Object.assign(el, { _icon: iconEl, _link: link, _size: size, _date: date, _more: more, _i: -1, _gen: -1 });
  return el;
}

function fillRow(el, i) {
  const e = rowAt(i);
  el._i = i;
  el._gen = viewGen;
  el.id = `row-${i}`;
  el.setAttribute('aria-rowindex', String(i + 2));
  el.style.transform = `translateY(${i * rowH}px)`;
  el.classList.toggle('dir', e.isDir);
  const shown = e.parent ? '..' : displayName(e.name);
  setIcon(el._icon, e.parent ? 'up' : iconKind(e.name, e.isDir ? 'directory' : 'file'), `k-${e.parent ? 'folder' : iconKind(e.name, e.isDir ? 'directory' : 'file')}`);
  el._link.textContent = shown;
  el._link.href = e.link + (e.isDir ? queryWithSort('', state.sort, state.order) : '');
  el._link.title = e.parent ? 'Parent folder' : shown;
  if (e.parent) el._link.setAttribute('aria-label', 'Parent folder');
  else el._link.removeAttribute('aria-label');
  if (!e.isDir && !viewable(e.name)) el._link.download = e.name;
  else el._link.removeAttribute('download');
  el._size.textContent = e.isDir ? '' : humanSize(e.size);
  el._size.title = e.isDir ? '' : exactSize(e.size);
  if (e.parent || !e.mtime) {
    el._date.textContent = '';
    el._date.title = '';
  } else {
    const off = -new Date(e.mtime).getTimezoneOffset();
    el._date.textContent = relativeDate(e.mtime, Date.now(), off);
    el._date.title = exactDate(e.mtime, off);
  }
  el._more.hidden = !!e.parent;
  el._more.setAttribute('aria-label', `Actions for ${shown}`);
}

function renderRows() {
  const n = rowCount();
  ui.rows.style.height = `${n * rowH}px`;
  const top = ui.rows.getBoundingClientRect().top;
  const first = Math.max(0, Math.floor(-top / rowH) - OVERSCAN);
  const last = Math.min(n, Math.ceil((innerHeight - top) / rowH) + OVERSCAN);
  const want = new Set();
  for (let i = first; i < last; i++) want.add(i);
  if (state.sel >= 0 && state.sel < n) want.add(state.sel);
  for (const [i, el] of pool) {
    if (!want.has(i)) {
      pool.delete(i);
      spare.push(el);
    }
  }
  for (const i of want) {
    let el = pool.get(i);
    if (!el) {
      el = spare.pop() || makeRow();
      pool.set(i, el);
    }
    if (el._i !== i || el._gen !== viewGen) fillRow(el, i);
    const sel = i === state.sel;
    el.classList.toggle('sel', sel);
    el.setAttribute('aria-selected', String(sel));
    if (!el.isConnected) ui.rows.append(el);
  }
  // Keep a few spare rows out of the document for the next scroll; drop the rest.
  for (const el of spare.splice(20)) el.remove();
  for (const el of spare) el.remove();
  if (state.sel >= 0 && state.sel < n) ui.grid.setAttribute('aria-activedescendant', `row-${state.sel}`);
  else ui.grid.removeAttribute('aria-activedescendant');
}

function select(i, { scroll = true } = {}) {
  const n = rowCount();
  state.sel = n === 0 ? -1 : Math.max(0, Math.min(n - 1, i));
  if (scroll && state.sel >= 0) {
    // Scroll by hand: the sticky header and the upload panel cover parts of the window.
    const y = ui.rows.getBoundingClientRect().top + state.sel * rowH;
    const over = ui.head.getBoundingClientRect().bottom;
    const under = innerHeight - (ui.uploads.hidden ? 0 : ui.uploads.offsetHeight);
    if (y < over) scrollBy(0, y - over);
    else if (y + rowH > under) scrollBy(0, y + rowH - under);
  }
  renderRows();
}

// ---- navigation and actions -----------------------------------------------------------------

function navigate(path, { focusName = null } = {}) {
  closeMenu(false);
  if (path !== state.dir) history.pushState(null, '', path + queryWithSort(location.search, state.sort, state.order));
  load({ focusName });
}

// A plain click on a folder link stays on the page; other clicks (new tab...) are the browser's.
function followFolderLink(ev, path) {
  if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  navigate(path);
}

// Up one folder, with the folder we come from selected.
function goParent() {
  if (state.dir === '/') return;
  navigate(parentPath(state.dir), { focusName: decodeSegment(state.dir.split('/').filter(Boolean).pop()) });
}

function openRow(i, newTab = false) {
  const e = rowAt(i);
  if (!e) return;
  if (newTab) {
    window.open(e.link, '_blank', 'noopener');
  } else if (e.parent) {
    goParent();
  } else if (e.isDir) {
    navigate(e.link);
  } else {
    pool.get(i)?._link.click();
  }
}

function setSort(sort, order) {
  state.sort = sort;
  state.order = order;
  history.replaceState(history.state, '', state.dir + queryWithSort(location.search, sort, order));
  sortEntries(state.entries, sort, order);
  applyView();
  const label = { name: 'name', size: 'size', mtime: 'date modified', type: 'type' }[sort];
  announce(`Sorted by ${label}, ${order === 'asc' ? 'ascending' : 'descending'}`);
  renderCrumbs();
}

// A column's first click sorts the way people usually want it (largest, newest first).
function sortBy(key) {
  if (key === state.sort) setSort(key, state.order === 'asc' ? 'desc' : 'asc');
  else setSort(key, key === 'size' || key === 'mtime' ? 'desc' : 'asc');
}

async function copyText(text, what) {
  const back = document.activeElement;
  try {
    await navigator.clipboard.writeText(text);
    return toast(`Copied ${what}.`);
  } catch {
    // The Clipboard API needs a secure context (https, localhost): plain http:// on a LAN
    // has only the old way.
  }
  const ta = h('textarea', { class: 'clip', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  ta.remove();
  back?.focus?.({ preventScroll: true });
  if (copied) return toast(`Copied ${what}.`);
  await modal({ title: `Copy ${what}`, message: 'Copy it from here:',
    fields: [{ name: 'text', label: what, value: text }], buttons: [{ label: 'Close', value: 'ok', kind: 'primary' }] });
}

// The curl equivalent of an action; "-u USER" where the server wants credentials for it.
const userOption = (write) => (AUTH === 'all' || (write && AUTH === 'writes') ? '-u USER ' : '');
function curlFor(e) {
  const url = absolute(e.link);
  return e.isDir ? `curl -fL ${userOption(false)}${shellQuote(`${url}?download=tar`)} | tar -x`
    : `curl -fL ${userOption(false)}-o ${shellQuote(e.name)} ${shellQuote(url)}`;
}

function rowMenu(i, anchor) {
  const e = rowAt(i);
  if (!e || e.parent) return;
  const items = [];
  if (e.isDir) {
    items.push({ label: 'Open', icon: 'folder', action: () => navigate(e.link) },
      { label: 'Download as ZIP', icon: 'download', href: `${e.link}?download=zip` },
      { label: 'Download as TAR', icon: 'download', href: `${e.link}?download=tar` });
  } else {
    if (viewable(e.name)) items.push({ label: 'Open', icon: 'open', href: e.link });
    items.push({ label: 'Download', icon: 'download', href: e.link, download: e.name });
  }
  items.push('-', { label: 'Copy link', icon: 'link', action: () => copyText(absolute(e.link), 'the link') },
    { label: 'Copy curl command', icon: 'terminal', action: () => copyText(curlFor(e), 'the curl command') });
  if (!READ_ONLY) {
    items.push('-', { label: 'Rename or move…', icon: 'edit', action: () => renameEntry(e) },
      { label: 'Delete…', icon: 'trash', danger: true, action: () => deleteEntry(e) });
  }
  openMenu(anchor, items, `Actions for ${displayName(e.name)}`, ui.grid);
}

async function newFolder() {
  const r = await modal({
    title: 'New folder',
    message: `In ${displayPath(state.dir)}`,
    fields: [{ name: 'name', label: 'Name' }],
    buttons: [{ label: 'Cancel', value: null }, { label: 'Create', value: 'ok', kind: 'primary' }],
    validate: ({ name }) => nameProblem(name) || (state.names.has(name) ? `${nameOf(name)} is already there.` : ''),
  });
  if (!r) return;
  const { name } = r.values;
  const dir = state.dir;
  const res = await call('MKCOL', joinPath(dir, name, true));
  if (res.status === 201) {
    if (dir === state.dir) {
      addEntry({ name, type: 'directory', size: 0, mtime: new Date().toISOString(), link: joinPath(dir, name, true) });
      ui.grid.focus({ preventScroll: true });
    }
    toast(`Created the folder ${nameOf(name)}.`);
  } else {
    toast(`The folder ${nameOf(name)} was not created: ${res.status === 405 ? 'something of that name is already there.' : statusText(res.status)}`, { error: true });
    if (res.status === 405) load({ keepSelection: true });
  }
}

function addEntry(raw) {
  const [e] = prepareEntries({ entries: [raw] }, state.dir);
  state.entries = state.entries.filter((x) => x.name !== e.name);
  state.entries.push(e);
  sortEntries(state.entries, state.sort, state.order);
  indexEntries();
  applyView({ selectName: e.name, scroll: true });
}

function dropEntry(name) {
  const at = state.sel;
  state.entries = state.entries.filter((x) => x.name !== name);
  indexEntries();
  applyView();
  if (at >= 0) select(Math.min(at, rowCount() - 1), { scroll: false });
}

async function renameEntry(e) {
  const r = await modal({
    title: e.isDir ? 'Rename or move folder' : 'Rename or move file',
    message: ['A new name; or, to move it, a path such as ../other/ or /archive/new-name.'],
    fields: [{ name: 'to', label: `New name for ${nameOf(e)}`, value: e.name, selectBase: !e.isDir }],
    buttons: [{ label: 'Cancel', value: null }, { label: 'Rename', value: 'ok', kind: 'primary' }],
    validate: ({ to }) => resolveDestination(to, state.dir, e.name, e.isDir).error || '',
  });
  if (!r || r.values.to === e.name) return;
  const { path } = resolveDestination(r.values.to, state.dir, e.name, e.isDir);
  if (path === e.link) return;
  const dir = state.dir;
  const newName = decodeSegment(path.replace(/\/$/, '').split('/').pop());
  const askReplace = () => confirmDanger('Replace?', [`${displayPath(path)} is already there.`,
    `Replace it with ${nameOf(e)}? What is there now will be deleted.`], 'Replace');
  // A name taken in this folder is known: ask first (the server's 412 covers the rest).
  let overwrite = 'F';
  if (parentPath(path) === dir && state.names.has(newName)) {
    if (!(await askReplace())) return;
    overwrite = 'T';
  }
  for (;;) {
    const res = await call('MOVE', e.link, { headers: { Destination: absolute(path), Overwrite: overwrite } });
    if (res.status === 412 && overwrite === 'F') {
      if (!(await askReplace())) return;
      overwrite = 'T';
      continue;
    }
    if (res.status === 201 || res.status === 204) {
      if (dir === state.dir) {
        if (parentPath(path) === dir) {
          state.entries = state.entries.filter((x) => x !== e && x.name !== newName);
          addEntry({ name: newName, type: e.isDir ? 'directory' : 'file', size: e.size, mtime: new Date(e.mtime).toISOString(), link: path });
        } else dropEntry(e.name);
      }
      toast(parentPath(path) === dir ? `Renamed to ${nameOf(newName)}.` : `Moved to ${displayPath(path)}.`);
    } else {
      const why = { 207: 'some items could not be moved.', 403: 'that move is not allowed.', 409: 'the folder to move it to does not exist.', 502: 'that destination is on another server.' }[res.status] || statusText(res.status);
      toast(`${nameOf(e)} was not moved: ${why}`, { error: true });
      if (res.status === 207 || res.status === 404) load({ keepSelection: true });
    }
    return;
  }
}

async function deleteEntry(e) {
  const yes = await confirmDanger(e.isDir ? 'Delete folder?' : 'Delete file?',
    [e.isDir ? `Delete the folder ${nameOf(e)} and everything in it?` : `Delete ${nameOf(e)}?`, 'This cannot be undone.'], 'Delete');
  if (!yes) return;
  const dir = state.dir;
  const res = await call('DELETE', e.link);
  if (res.status === 204 || res.status === 200 || res.status === 404) {
    if (dir === state.dir) dropEntry(e.name);
    toast(`Deleted ${nameOf(e)}.`);
  } else {
    toast(res.status === 207 ? `Some things in ${nameOf(e)} could not be deleted.` : `${nameOf(e)} was not deleted: ${statusText(res.status)}`, { error: true });
    if (res.status === 207) load({ keepSelection: true });
  }
}

function showHelp() {
  const keys = [
    ['↓ ↑ or j k', 'Move the selection'], ['Home End, PgUp PgDn', 'First, last, a page'],
    ['Enter', 'Open'], ['Ctrl+Enter', 'Open in a new tab'], ['Backspace or Alt+↑', 'Parent folder'],
    ['/', 'Filter names'], ['Escape', 'Clear the filter'], ['Shift+F10 or Menu', 'Actions of the selection'],
  ];
  if (!READ_ONLY) keys.push(['F2', 'Rename or move'], ['Delete', 'Delete'], ['n', 'New folder'], ['u', 'Upload files']);
  keys.push(['?', 'This help']);
  const dl = h('dl', { class: 'keys' }, keys.map(([k, v]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, v)]));
  modal({ title: 'Keyboard shortcuts', message: dl, buttons: [{ label: 'Close', value: 'ok', kind: 'primary' }] });
}

function onKey(ev) {
  if (ev.defaultPrevented || ev.isComposing || menu || document.querySelector('dialog[open]')) return;
  const t = ev.target;
  if (t === ui.filter) {
    if (ev.key === 'Escape' && ui.filter.value) {
      setFilter('');
    } else if (ev.key === 'Escape' || ev.key === 'Enter' || ev.key === 'ArrowDown') {
      ui.grid.focus();
      select(state.sel < 0 ? 0 : state.sel);
    } else return;
    ev.preventDefault();
    return;
  }
  if (t.closest?.('input, textarea, select, [contenteditable]')) return;
  const plain = !ev.ctrlKey && !ev.metaKey && !ev.altKey;
  if (ev.key === '/' && plain) {
    ev.preventDefault();
    ui.filter.focus();
    ui.filter.select();
    return;
  }
  if (ev.key === '?' && !ev.ctrlKey && !ev.metaKey) return showHelp();
  if (!READ_ONLY && plain && ev.key === 'n') return void newFolder();
  if (!READ_ONLY && plain && ev.key === 'u') return ui.fileInput.click();
  // Navigation keys act on the list when nothing else (a button, a link outside) has focus.
  if (t !== document.body && t !== document.documentElement && !ui.grid.contains(t)) return;
  const page = Math.max(1, Math.floor(innerHeight / rowH) - 3);
  const sel = state.sel;
  let to = null;
  if ((ev.key === 'ArrowDown' || ev.key === 'j') && plain) to = sel + 1;
  else if ((ev.key === 'ArrowUp' || ev.key === 'k') && plain) to = sel < 0 ? 0 : sel - 1;
  else if (ev.key === 'Home' && plain) to = 0;
  else if (ev.key === 'End' && plain) to = rowCount() - 1;
  else if (ev.key === 'PageDown' && plain) to = sel + page;
  else if (ev.key === 'PageUp' && plain) to = sel - page;
  else if (ev.key === 'Enter' && sel >= 0) openRow(sel, ev.ctrlKey || ev.metaKey);
  else if ((ev.key === 'Backspace' && plain) || (ev.key === 'ArrowUp' && ev.altKey)) goParent();
  else if (ev.key === 'Escape' && state.filter) setFilter('');
  else if ((ev.key === 'ContextMenu' || (ev.key === 'F10' && ev.shiftKey)) && sel >= 0) {
    const el = pool.get(sel);
    if (el && !rowAt(sel).parent) rowMenu(sel, el._more);
  } else if (ev.key === 'F2' && !READ_ONLY && rowAt(sel) && !rowAt(sel).parent) renameEntry(rowAt(sel));
  else if (ev.key === 'Delete' && !READ_ONLY && rowAt(sel) && !rowAt(sel).parent) deleteEntry(rowAt(sel));
  else return;
  ev.preventDefault();
  if (to !== null) {
    if (document.activeElement !== ui.grid) ui.grid.focus({ preventScroll: true });
    select(to);
  }
}

// ---- uploads ------------------------------------------------------------------------------

// A queue of files, at most PARALLEL_UPLOADS at a time. Each one is a small state machine
// (run): create the upload, append parts, and after a cut ask the server where it is and go
// on from there, waiting longer each time (a closed laptop lid, a Wi-Fi change). File
// parts are Blob slices: a 10 GiB file never sits in memory.
class Retry extends Error {}
class Fail extends Error {}
class Skip extends Error {}

// queue[head...] waits to start (an index, not shift(): a dropped tree can queue 100 000 files).
const uploads = { tasks: [], queue: [], head: 0, active: 0, dirs: new Map(), seq: 0 };

// A batch is what one drop or one pick added: it shares the answer to "Replace?".
function newBatch(base) {
  return { base, policy: null, count: 0 };
}

function enqueue(file, relDirs, batch) {
  const dir = batch.base + relDirs.map((d) => `${encodeName(d)}/`).join('');
  const t = {
    id: ++uploads.seq, file, size: file.size, dir, target: dir + encodeName(file.name),
    label: [...relDirs, file.name].join('/'), batch, state: 'queued', error: '',
    offset: 0, sent: 0, chunk: CHUNK_START, location: null, needsHead: false, complete: false,
    lastSent: false, replace: false, cancelled: false, ctl: null, wake: null, retryAt: 0,
    samples: [], restarts: 0, conflicts: 0, stored: false,
  };
  batch.count++;
  uploads.tasks.push(t);
  uploads.queue.push(t);
  pump();
  renderUploads();
}

function pump() {
  while (uploads.active < PARALLEL_UPLOADS && uploads.head < uploads.queue.length) {
    const t = uploads.queue[uploads.head++];
    if (uploads.head === uploads.queue.length) {
      uploads.queue = [];
      uploads.head = 0;
    }
    if (t.state !== 'queued') continue;
    uploads.active++;
    run(t).finally(() => {
      uploads.active--;
      if (uploads.active === 0 && uploads.head >= uploads.queue.length) uploads.dirs.clear();
      pump();
      renderUploads();
    });
  }
}

const storeKey = (t) => `httpfs-upload ${t.target} ${t.size} ${t.file.lastModified}`;
function remember(t) {
  try {
    localStorage.setItem(storeKey(t), JSON.stringify({ location: t.location, at: Date.now() }));
  } catch { /* storage full or disabled: only resuming after a reload is lost */ }
}
function forget(t) {
  try {
    localStorage.removeItem(storeKey(t));
  } catch { /* as above */ }
}
// An upload of the same file to the same place that a closed tab left unfinished goes on.
function recall(t) {
  try {
    const v = JSON.parse(localStorage.getItem(storeKey(t)));
    if (v && typeof v.location === 'string' && v.location.startsWith('/.httpfs-upload/') && Date.now() - v.at < GIVE_UP_MS) {
      t.location = v.location;
      t.needsHead = true;
    }
  } catch { /* as above */ }
}
function pruneStore() {
  try {
    for (let n = localStorage.length - 1; n >= 0; n--) {
      const k = localStorage.key(n);
      if (!k?.startsWith('httpfs-upload ')) continue;
      const v = JSON.parse(localStorage.getItem(k) || 'null');
      if (!v || Date.now() - v.at > GIVE_UP_MS) localStorage.removeItem(k);
    }
  } catch { /* as above */ }
}

function check(res) {
  if (ok(res)) return res;
  if (retryable(res.status)) throw new Retry(res.status === 0 ? 'Connection lost.' : statusText(res.status));
  throw new Fail(res.status === 401 ? 'Sign-in was cancelled.' : statusText(res.status));
}

async function run(t) {
  t.state = 'active';
  t.error = '';
  t.ctl = new AbortController();
  renderUploads();
  let attempts = 0;
  let failingSince = 0;
  try {
    for (;;) {
      if (t.cancelled) return;
      try {
        await ensureDir(t.dir, t.batch.base);
        if (!t.location && !t.stored) {
          t.stored = true;
          recall(t);
        }
        if (!t.location) {
          if (await create(t)) break;
        } else if (t.needsHead) {
          await sync(t);
        } else if (t.complete) {
          break;
        } else {
          await append(t);
        }
        attempts = 0;
        failingSince = 0;
      } catch (err) {
        if (!(err instanceof Retry)) throw err;
        attempts++;
        failingSince ||= Date.now();
        if (Date.now() - failingSince > GIVE_UP_MS) throw new Fail(`${err.message} Gave up after a day.`);
        t.needsHead = t.location !== null;
        await pause(t, backoffMs(attempts), err.message);
      }
    }
    t.state = 'done';
    t.sent = t.size;
    forget(t);
    changed(t.dir);
  } catch (err) {
    if (t.cancelled) return;
    if (err instanceof Skip) {
      t.state = 'skipped';
      if (t.location) discard(t);
      return;
    }
    t.state = 'failed';
    t.error = err instanceof Fail ? err.message : `Unexpected error: ${err?.message || err}`;
  } finally {
    t.ctl = null;
  }
}

// Makes the folders of dropped trees, parents first, each once (MKCOL; 405: already there).
function ensureDir(dir, base) {
  if (dir === base || !dir.startsWith(base)) return Promise.resolve();
  let p = uploads.dirs.get(dir);
  const name = decodeSegment(dir.slice(0, -1).split('/').pop());
  if (!p && parentPath(dir) === state.dir && state.names.get(name) === true) p = Promise.resolve(); // known
  if (!p) {
    p = ensureDir(parentPath(dir), base).then(async () => {
      const res = await call('MKCOL', dir);
      if (res.status !== 201 && res.status !== 405) check(res);
      changed(parentPath(dir));
    });
    uploads.dirs.set(dir, p);
    p.catch(() => uploads.dirs.delete(dir)); // the next file tries again
  }
  return p;
}

async function askReplace(t) {
  const b = t.batch;
  if (!b.policy) {
    const was = t.state;
    t.state = 'asking';
    renderUploads();
    const r = await modal({
      title: 'Replace file?',
      message: `${nameOf(t.label)} is already there, in ${displayPath(t.dir)}.`,
      fields: b.count > 1 ? [{ name: 'all', type: 'checkbox', label: 'Do the same for the other files of this upload that are already there' }] : [],
      buttons: [{ label: 'Skip', value: 'skip' }, { label: 'Replace', value: 'replace', kind: 'primary' }],
    });
    t.state = was;
    const choice = r?.button || 'skip';
    if (r?.values.all) b.policy = choice;
    if (choice === 'skip') throw new Skip();
  } else if (b.policy === 'skip') throw new Skip();
  t.replace = true;
}

// Creation. True when that was the whole upload (small files).
async function create(t) {
  if (t.cancelled) return false;
  if (!t.replace && t.dir === state.dir && state.names.get(t.file.name) === false) await askReplace(t);
  const small = t.size <= SMALL_FILE;
  const headers = { 'Upload-Draft-Interop-Version': '8', 'Upload-Complete': small ? '?1' : '?0' };
  if (!small) headers['Upload-Length'] = String(t.size);
  if (!t.replace) headers['If-None-Match'] = '*';
  t.sent = 0;
  t.samples = [];
  const res = await call('PUT', t.target, {
    headers, body: small ? t.file : null, signal: t.ctl.signal, onProgress: small ? (n) => progress(t, n) : null,
  });
  if (res.status === 412 && !t.replace) {
    await askReplace(t);
    return false;
  }
  check(res);
  if (small) return true;
  const loc = res.header('Location');
  const url = loc ? new URL(loc, location.href) : null;
  if (!url || url.origin !== location.origin) {
    // A server without resumable uploads made an empty file of the empty PUT: send it whole.
    t.replace = true;
    check(await call('PUT', t.target, { body: t.file, signal: t.ctl.signal, onProgress: (n) => progress(t, n) }));
    return true;
  }
  t.location = url.pathname;
  t.offset = Number(res.header('Upload-Offset')) || 0;
  t.sent = t.offset;
  remember(t);
  return false;
}

async function append(t) {
  const { start, end, last } = nextChunk(t.offset, t.size, t.chunk);
  const began = performance.now();
  t.lastSent ||= last;
  const res = await call('PATCH', t.location, {
    headers: {
      'Upload-Draft-Interop-Version': '8', 'Upload-Offset': String(start),
      'Upload-Complete': last ? '?1' : '?0', 'Content-Type': 'application/partial-upload',
    },
    body: t.file.slice(start, end), signal: t.ctl.signal, onProgress: (n) => progress(t, start + n),
  });
  if (res.status === 409) {
    // Not the server's offset (a part whose answer was lost did arrive): ask it.
    if (++t.conflicts > 5) throw new Retry('The server and the page disagree on the offset.');
    t.needsHead = true;
    return;
  }
  if (res.status === 404 || res.status === 410) return restart(t, 'The server lost the upload.');
  if (res.status === 412) {
    // If-None-Match: * is checked again at the end: somebody made the file meanwhile.
    if (t.replace) throw new Fail(statusText(412));
    await askReplace(t);
    return restart(t);
  }
  check(res);
  t.conflicts = 0;
  if (last) {
    t.complete = true;
    return;
  }
  const at = Number(res.header('Upload-Offset') ?? NaN);
  t.offset = Number.isFinite(at) && at >= start && at <= t.size ? at : end;
  t.chunk = adaptChunk(t.chunk, end - start, performance.now() - began);
  remember(t);
}

// Where the server is (HEAD on the upload), after a cut or a 409.
async function sync(t) {
  const res = await call('HEAD', t.location, { headers: { 'Upload-Draft-Interop-Version': '8' }, signal: t.ctl.signal });
  if (res.status === 404 || res.status === 410) {
    // Gone: done and cleaned up, if the last part got there; else start again.
    if (t.lastSent) {
      const head = await call('HEAD', t.target, { signal: t.ctl.signal });
      if (ok(head) && Number(head.header('Content-Length')) === t.size) {
        t.complete = true;
        t.needsHead = false;
        return;
      }
    }
    return restart(t, 'The server lost the upload.');
  }
  check(res);
  t.needsHead = false;
  if (res.header('Upload-Complete') === '?1') {
    t.complete = true;
    return;
  }
  const at = Number(res.header('Upload-Offset'));
  if (!Number.isInteger(at) || at < 0 || at > t.size) throw new Fail('The server reported an impossible offset.');
  t.offset = at;
  t.sent = at;
}

function restart(t, why) {
  if (why && ++t.restarts > 3) throw new Fail(why);
  discard(t);
  t.location = null;
  t.offset = 0;
  t.sent = 0;
  t.lastSent = false;
  t.needsHead = false;
  t.complete = false;
}

// Frees what the server holds for an upload that will not go on.
function discard(t) {
  if (t.location) call('DELETE', t.location).catch(() => {});
  forget(t);
}

// Waits `ms` (or until the browser is back online, or "Retry now").
function pause(t, ms, why) {
  t.state = 'waiting';
  t.error = why;
  t.retryAt = Date.now() + ms;
  renderUploads();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      removeEventListener('online', done);
      t.wake = null;
      if (!t.cancelled) t.state = 'active';
      renderUploads();
      resolve();
    };
    const timer = setTimeout(done, ms);
    addEventListener('online', done);
    t.wake = done;
  });
}

function progress(t, sent) {
  t.sent = sent;
  const now = performance.now();
  t.samples.push({ t: now, bytes: sent });
  while (t.samples.length > 2 && now - t.samples[0].t > 10000) t.samples.shift();
  renderUploads();
}

function cancelUpload(t, remove = true) {
  if (t.state === 'done' || t.state === 'cancelled') return;
  t.cancelled = true;
  t.ctl?.abort();
  t.wake?.();
  discard(t);
  t.state = 'cancelled';
  if (remove) removeTask(t);
}

function retryUpload(t) {
  if (t.state === 'waiting') return t.wake?.();
  if (t.state !== 'failed') return;
  t.state = 'queued';
  t.error = '';
  t.restarts = 0;
  t.needsHead = t.location !== null;
  uploads.queue.push(t);
  pump();
  renderUploads();
}

function removeTask(t) {
  if (t.state === 'failed') discard(t);
  uploads.tasks = uploads.tasks.filter((x) => x !== t);
  t.el?.remove();
  renderUploads();
}

// After uploads into the folder shown (or below it): reload the listing, at most every
// few seconds, and less often when the listing is large.
let refreshTimer = 0;
let lastRefresh = 0;
function changed(dir) {
  if (!dir.startsWith(state.dir) || refreshTimer) return;
  const wait = Math.max(700, lastRefresh + Math.max(2000, state.loadMs * 10) - Date.now());
  refreshTimer = setTimeout(() => {
    refreshTimer = 0;
    lastRefresh = Date.now();
    load({ keepSelection: true });
  }, wait);
}

// Drops: files and folders (walked with the File and Directory Entries API).
function takeDrop(dt) {
  const batch = newBatch(state.dir);
  const items = [...dt.items].filter((i) => i.kind === 'file');
  // Entries and files must be taken now: the DataTransfer is emptied after the event.
  const got = items.map((i) => ({ entry: i.webkitGetAsEntry?.() ?? null, file: i.getAsFile() }));
  (async () => {
    let unreadable = 0;
    const walk = async (dirEntry, path) => {
      ensureDir(batch.base + path.map((d) => `${encodeName(d)}/`).join(''), batch.base).catch(() => {});
      const reader = dirEntry.createReader();
      for (;;) {
        let list;
        try {
          list = await new Promise((res, rej) => reader.readEntries(res, rej));
        } catch {
          unreadable++;
          return;
        }
        if (!list.length) return;
        for (const e of list) {
          if (e.isDirectory) await walk(e, [...path, e.name]);
          else {
            try {
              enqueue(await new Promise((res, rej) => e.file(res, rej)), path, batch);
            } catch {
              unreadable++;
            }
          }
        }
      }
    };
    for (const { entry, file } of got) {
      if (entry?.isDirectory) await walk(entry, [entry.name]);
      else if (file) enqueue(file, [], batch);
    }
    if (unreadable) toast(`${unreadable} item${unreadable === 1 ? '' : 's'} could not be read and will not be uploaded.`, { error: true });
  })();
}

function takeFiles(input) {
  const batch = newBatch(state.dir);
  for (const f of input.files) {
    const rel = (f.webkitRelativePath || '').split('/').slice(0, -1);
    enqueue(f, rel, batch);
  }
  input.value = '';
}

// The upload panel: a summary, and the tasks worth seeing (all unfinished ones up to a
// limit, and the last finished), redrawn at most once a frame.
let upFrame = 0;
function renderUploads() {
  upFrame ||= requestAnimationFrame(() => {
    upFrame = 0;
    drawUploads();
  });
}

let ticker = 0;
function drawUploads() {
  const tasks = uploads.tasks;
  ui.uploads.hidden = tasks.length === 0;
  document.documentElement.style.setProperty('--uploads-h', `${ui.uploads.hidden ? 0 : ui.uploads.offsetHeight}px`);
  const count = { queued: 0, active: 0, waiting: 0, asking: 0, done: 0, failed: 0, skipped: 0 };
  let size = 0;
  let sent = 0;
  let speed = 0;
  for (const t of tasks) {
    count[t.state]++;
    if (t.state === 'skipped') continue;
    size += t.size;
    sent += t.state === 'done' ? t.size : t.sent;
    if (t.state === 'active') speed += rate(t.samples);
  }
  const busy = count.queued + count.active + count.waiting + count.asking;
  const pct = size ? Math.floor((sent / size) * 100) : 100;
  const parts = [];
  if (busy) {
    parts.push(`Uploading ${groupDigits(busy)} file${busy === 1 ? '' : 's'} · ${pct}%`);
    if (speed > 0) parts.push(`${humanSize(speed)}/s`, `${humanDuration((size - sent) / speed)} left`);
  } else parts.push(`${groupDigits(count.done)} uploaded`);
  if (count.failed) parts.push(`${count.failed} failed`);
  ui.upSummary.textContent = parts.join(' · ');
  ui.upTotal.max = Math.max(1, size);
  ui.upTotal.value = size ? sent : 1;
  ui.upRetry.hidden = !count.failed;
  ui.upClear.hidden = !(count.done || count.skipped);
  ui.upCancel.hidden = !busy;
  updateTitle(busy ? pct : null);

  const shown = [];
  let unfinished = 0;
  for (const t of tasks) if (t.state !== 'done' && t.state !== 'skipped' && unfinished++ < 100) shown.push(t);
  const finished = tasks.filter((t) => t.state === 'done' || t.state === 'skipped');
  shown.push(...finished.slice(-20));
  const keep = new Set(shown);
  for (const el of [...ui.upList.children]) if (!keep.has(el._task)) el.remove();
  let prev = null;
  for (const t of shown) {
    t.el ||= uploadItem(t);
    fillUpload(t);
    if (t.el.previousElementSibling !== prev || !t.el.isConnected) {
      if (prev) prev.after(t.el);
      else ui.upList.prepend(t.el);
    }
    prev = t.el;
  }
  const hiddenCount = tasks.length - shown.length;
  ui.upMore.textContent = hiddenCount > 0 ? `and ${groupDigits(hiddenCount)} more` : '';
  // While some upload waits to retry, its countdown moves.
  if (count.waiting && !ticker) ticker = setInterval(renderUploads, 1000);
  if (!count.waiting && ticker) {
    clearInterval(ticker);
    ticker = 0;
  }
}

function uploadItem(t) {
  const name = displayName(t.label);
  const el = h('li', { class: 'up-item' });
  el._task = t;
  el._progress = h('progress', { max: '1', value: '0', 'aria-label': `Progress of ${name}` });
  el._status = h('span', { class: 'up-status' });
  el._cancel = h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Cancel ${name}`, title: 'Cancel', onclick: () => cancelUpload(t) }, icon('x'));
  el._retry = h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Retry ${name}`, title: 'Retry', onclick: () => retryUpload(t) }, icon('retry'));
  el._remove = h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Remove ${name} from the list`, title: 'Remove from the list', onclick: () => removeTask(t) }, icon('x'));
  el.append(icon(iconKind(t.file.name, 'file'), `k-${iconKind(t.file.name, 'file')}`),
    h('div', { class: 'up-main' }, h('span', { class: 'up-name', title: name }, name), el._progress, el._status),
    h('div', { class: 'up-actions' }, el._retry, el._cancel, el._remove));
  return el;
}

function fillUpload(t) {
  const el = t.el;
  el.dataset.state = t.state;
  el._progress.max = Math.max(1, t.size);
  el._progress.value = t.state === 'done' ? Math.max(1, t.size) : t.sent;
  let status;
  switch (t.state) {
    case 'queued': status = `${humanSize(t.size)} · waiting`; break;
    case 'asking': status = 'Already there: replace?'; break;
    case 'done': status = `${humanSize(t.size)} · done`; break;
    case 'skipped': status = 'Skipped: already there'; break;
    case 'failed': status = t.error; break;
    case 'waiting': status = `${t.error} Trying again in ${Math.max(0, Math.ceil((t.retryAt - Date.now()) / 1000))} s.`; break;
    default: {
      const speed = rate(t.samples);
      status = `${humanSize(t.sent)} of ${humanSize(t.size)}`;
      if (speed > 0) status += ` · ${humanSize(speed)}/s · ${humanDuration((t.size - t.sent) / speed)} left`;
    }
  }
  el._status.textContent = status;
  const unfinished = !['done', 'failed', 'skipped'].includes(t.state);
  el._cancel.hidden = !unfinished;
  el._retry.hidden = t.state !== 'failed' && t.state !== 'waiting';
  el._retry.title = t.state === 'waiting' ? 'Retry now' : 'Retry';
  el._remove.hidden = unfinished;
}

function updateTitle(pct = null) {
  const base = `${displayPath(state.dir)} · httpfs`;
  document.title = pct === null ? base : `(${pct}%) ${base}`;
}

// ---- the page ---------------------------------------------------------------------------------

function build() {
  const app = document.getElementById('app');
  ui.crumbs = h('ol');
  ui.nav = h('nav', { class: 'crumbs', 'aria-label': 'Folder path' }, ui.crumbs);
  const actions = h('div', { class: 'actions' });
  if (!READ_ONLY) {
    const up = button('upload', 'Upload', () => openMenu(up, [
      { label: 'Files…', icon: 'file', action: () => ui.fileInput.click() },
      { label: 'A folder…', icon: 'folder', action: () => ui.dirInput.click() },
      '-',
      { label: 'Copy curl command', icon: 'terminal', action: () => copyText(`curl -f ${userOption(true)}-T FILE ${shellQuote(absolute(state.dir))}`, 'the curl command') },
    ], 'Upload'), { 'aria-haspopup': 'menu', 'aria-expanded': 'false' });
    actions.append(button('folder-plus', 'New folder', () => newFolder()), up);
  }
  const down = button('download', 'Download', () => openMenu(down, [
    { label: 'This folder as ZIP', icon: 'archive', href: `${state.dir}?download=zip` },
    { label: 'This folder as TAR', icon: 'archive', href: `${state.dir}?download=tar` },
    '-',
    { label: 'Copy curl command', icon: 'terminal', action: () => copyText(curlFor({ isDir: true, link: state.dir }), 'the curl command') },
    { label: 'Plain listing', icon: 'file', href: `${state.dir}?format=html` },
  ], 'Download'), { 'aria-haspopup': 'menu', 'aria-expanded': 'false' });
  actions.append(down, h('button', { type: 'button', class: 'btn icon-only', 'aria-label': 'Keyboard shortcuts', title: 'Keyboard shortcuts (?)', onclick: showHelp }, icon('keyboard')));

  ui.filter = h('input', { type: 'search', class: 'filter', placeholder: 'Filter', 'aria-label': 'Filter names (/)', autocomplete: 'off', spellcheck: 'false', enterkeyhint: 'go' });
  let filterFrame = 0;
  ui.filter.addEventListener('input', () => {
    filterFrame ||= requestAnimationFrame(() => {
      filterFrame = 0;
      setFilter(ui.filter.value);
      if (state.filter) announce(`${state.view.length} match${state.view.length === 1 ? '' : 'es'}`);
    });
  });
  ui.sortSelect = h('select', { class: 'sort', 'aria-label': 'Sort by' },
    [['name', 'Name'], ['size', 'Size'], ['mtime', 'Modified'], ['type', 'Type']].map(([v, l]) => h('option', { value: v }, l)));
  ui.sortSelect.addEventListener('change', () => sortBy(ui.sortSelect.value));
  ui.orderBtn = h('button', { type: 'button', class: 'btn icon-only' }, icon('sort-asc'));
  ui.orderBtn.addEventListener('click', () => setSort(state.sort, state.order === 'asc' ? 'desc' : 'asc'));
  ui.count = h('span', { class: 'count' });
  ui.top = h('header', { class: 'top' },
    h('div', { class: 'bar' }, ui.nav, actions),
    h('div', { class: 'tools' },
      h('div', { class: 'filter-box' }, icon('search'), ui.filter),
      h('div', { class: 'sorting' }, ui.sortSelect, ui.orderBtn), ui.count));

  ui.headers = {};
  const col = (key, label, cls) => {
    const th = h('span', { class: `cell ${cls}`, role: 'columnheader' },
      h('button', { type: 'button', class: 'col', tabindex: '-1', onclick: () => sortBy(key) }, label, icon('sort-asc', 'arrow')));
    ui.headers[key] = th;
    return th;
  };
  ui.head = h('div', { class: 'grid-head', role: 'rowgroup' },
    h('div', { class: 'row head', role: 'row', 'aria-rowindex': '1' },
      col('name', 'Name', 'name-cell'), col('size', 'Size', 'size'), col('mtime', 'Modified', 'date'),
      h('span', { class: 'cell act', role: 'columnheader' }, h('span', { class: 'sr-only' }, 'Actions'))));
  ui.rows = h('div', { class: 'rows', role: 'rowgroup' });
  ui.probe = h('div', { class: 'row probe', 'aria-hidden': 'true' }, h('span', { class: 'cell name-cell' }, 'x'), h('span', { class: 'cell size' }, '1'), h('span', { class: 'cell date' }, '1'));
  ui.grid = h('div', { class: 'grid', role: 'grid', tabindex: '0', 'aria-colcount': '4', 'aria-multiselectable': 'false' }, ui.head, ui.rows);
  ui.message = h('div', { class: 'message', hidden: true });

  ui.upSummary = h('span', { class: 'up-summary', role: 'status' });
  ui.upTotal = h('progress', { class: 'up-total', max: '1', value: '0', 'aria-label': 'All uploads' });
  ui.upRetry = button('retry', 'Retry failed', () => uploads.tasks.filter((t) => t.state === 'failed').forEach(retryUpload));
  ui.upClear = button('check', 'Clear finished', () => {
    for (const t of uploads.tasks) if (t.state === 'done' || t.state === 'skipped') t.el?.remove();
    uploads.tasks = uploads.tasks.filter((x) => x.state !== 'done' && x.state !== 'skipped');
    renderUploads();
  });
  ui.upCancel = button('x', 'Cancel all', async () => {
    if (await confirmDanger('Cancel all uploads?', 'The files not yet uploaded will not be.', 'Cancel uploads')) {
      for (const t of uploads.tasks) if (!['done', 'failed', 'skipped'].includes(t.state)) cancelUpload(t, false);
      for (const t of uploads.tasks) if (t.state === 'cancelled') t.el?.remove();
      uploads.tasks = uploads.tasks.filter((t) => t.state !== 'cancelled');
      renderUploads();
    }
  });
  ui.upToggle = h('button', { type: 'button', class: 'icon-btn', 'aria-expanded': 'true', 'aria-label': 'List of uploads', title: 'Show or hide the list' }, icon('chevron'));
  ui.upToggle.addEventListener('click', () => {
    const open = ui.upToggle.getAttribute('aria-expanded') !== 'true';
    ui.upToggle.setAttribute('aria-expanded', String(open));
    ui.uploads.classList.toggle('collapsed', !open);
    renderUploads();
  });
  ui.upList = h('ol', { class: 'up-list' });
  ui.upMore = h('p', { class: 'up-more' });
  ui.uploads = h('section', { class: 'uploads', 'aria-label': 'Uploads', hidden: true },
    h('div', { class: 'up-head' }, h('div', { class: 'up-title' }, ui.upSummary, ui.upTotal),
      h('div', { class: 'up-buttons' }, ui.upRetry, ui.upClear, ui.upCancel, ui.upToggle)),
    h('div', { class: 'up-body' }, ui.upList, ui.upMore));

  ui.fileInput = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1' });
  ui.dirInput = h('input', { type: 'file', multiple: true, webkitdirectory: true, hidden: true, tabindex: '-1' });
  ui.fileInput.addEventListener('change', () => takeFiles(ui.fileInput));
  ui.dirInput.addEventListener('change', () => takeFiles(ui.dirInput));
  ui.drop = h('div', { class: 'drop', hidden: true, 'aria-hidden': 'true' }, h('div', {}, icon('upload'), h('p', { class: 'drop-text' })));
  ui.live = h('div', { class: 'sr-only', 'aria-live': 'polite' });
  ui.toasts = h('div', { class: 'toasts', 'aria-live': 'polite' });

  app.replaceChildren(ui.top, h('main', {}, ui.grid, ui.message, ui.probe), ui.uploads, ui.drop, ui.live, ui.toasts, ui.fileInput, ui.dirInput);
  // The sprite doubles as the favicon (its root draws the logo; its symbols draw nothing).
  document.head.append(h('link', { rel: 'icon', type: 'image/svg+xml', href: ICONS }));
}

function wire() {
  document.addEventListener('keydown', onKey);
  addEventListener('scroll', () => {
    closeMenu(false);
    scheduleRows();
  }, { passive: true });
  addEventListener('resize', measureRows);
  new ResizeObserver(measureRows).observe(ui.top);
  new ResizeObserver(() => renderUploads()).observe(ui.uploads);
  addEventListener('popstate', () => load());
  // Back to a tab after a while: the folder may have changed.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && Date.now() - state.loadedAt > 30000 && !state.loading) load({ keepSelection: true });
  });
  // Relative dates move on.
  setInterval(() => { viewGen++; renderRows(); }, 60000);
  addEventListener('beforeunload', (ev) => {
    if (uploads.tasks.some((t) => ['queued', 'active', 'waiting', 'asking'].includes(t.state))) {
      ev.preventDefault();
      ev.returnValue = '';
    }
  });

  ui.rows.addEventListener('click', (ev) => {
    const row = ev.target.closest('.row');
    if (!row) return;
    const i = row._i;
    const more = ev.target.closest('.more');
    select(i, { scroll: false });
    if (more) return rowMenu(i, more);
    const e = rowAt(i);
    if (ev.target.closest('a')) {
      if (e.parent) {
        if (ev.button === 0 && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && !ev.altKey) {
          ev.preventDefault();
          goParent();
        }
      } else if (e.isDir) followFolderLink(ev, e.link);
      return;
    }
    ui.grid.focus({ preventScroll: true });
  });
  ui.rows.addEventListener('dblclick', (ev) => {
    const row = ev.target.closest('.row');
    if (row && !ev.target.closest('a, button')) openRow(row._i);
  });
  ui.grid.addEventListener('focus', () => {
    if (state.sel < 0 && rowCount() > 0) select(0, { scroll: false });
  });

  // Drag and drop: the overlay shows while files are over the window; read-only servers
  // still take the drop so the browser does not navigate away to the file.
  let depth = 0;
  const files = (ev) => [...(ev.dataTransfer?.types || [])].includes('Files');
  addEventListener('dragenter', (ev) => {
    if (!files(ev)) return;
    ev.preventDefault();
    if (++depth === 1 && !READ_ONLY) {
      ui.drop.querySelector('.drop-text').textContent = `Drop to upload to ${displayPath(state.dir)}`;
      ui.drop.hidden = false;
    }
  });
  addEventListener('dragover', (ev) => {
    if (!files(ev)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = READ_ONLY ? 'none' : 'copy';
  });
  addEventListener('dragleave', (ev) => {
    if (files(ev) && --depth <= 0) {
      depth = 0;
      ui.drop.hidden = true;
    }
  });
  addEventListener('drop', (ev) => {
    if (!files(ev)) return;
    ev.preventDefault();
    depth = 0;
    ui.drop.hidden = true;
    if (!READ_ONLY) takeDrop(ev.dataTransfer);
  });
}

build();
wire();
pruneStore();
measureRows();
renderCrumbs();
load();

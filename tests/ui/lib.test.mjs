// Unit tests of the browser page's pure helpers (ui/lib.js): node --test tests/ui/
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  adaptChunk, backoffMs, basicAuth, breadcrumbs, chunkPlan, CHUNK_MAX, CHUNK_MIN, decodeSegment,
  displayName, displayPath, encodeName, exactDate, exactSize, extension, filterEntries, groupDigits,
  humanDuration, humanSize, iconKind, joinPath, MiB, nameProblem, naturalCompare, nextChunk,
  parentPath, prepareEntries, queryWithSort, rate, relativeDate, resolveDestination, retryable,
  safeLink, shellQuote, sortEntries, sortFromQuery, viewable,
} from '../../ui/lib.js';

describe('natural sort', () => {
  const cases = [
    // [input, sorted]
    [['file10', 'file2', 'file1'], ['file1', 'file2', 'file10']],
    [['B', 'a', 'C'], ['a', 'B', 'C']],
    [['img12.png', 'img10.png', 'IMG2.png', 'img1.png'], ['img1.png', 'IMG2.png', 'img10.png', 'img12.png']],
    [['x01', 'x1', 'x001', 'x2'], ['x1', 'x01', 'x001', 'x2']],
    [['a', 'A', 'b'], ['A', 'a', 'b']], // folds alike: code point order, the same every time
    [['v1.10', 'v1.9', 'v1.2'], ['v1.2', 'v1.9', 'v1.10']],
    [['10', '9', '', '1'], ['', '1', '9', '10']],
    [['Zoë', 'zoe', 'Zoe'], ['Zoe', 'Zoë', 'zoe']], // accents fold too, then code points
    [['été', 'ete2', 'Eta'], ['Eta', 'été', 'ete2']],
    [['n99999999999999999999', 'n100000000000000000000'], ['n99999999999999999999', 'n100000000000000000000']],
    [['abc', 'ab', 'abcd'], ['ab', 'abc', 'abcd']],
  ];
  for (const [input, sorted] of cases) {
    test(`${JSON.stringify(input)}`, () => {
      assert.deepEqual([...input].sort(naturalCompare), sorted);
      assert.deepEqual([...input].reverse().sort(naturalCompare), sorted, 'independent of the input order');
    });
  }
  test('antisymmetric and reflexive', () => {
    const names = ['a1', 'a01', 'A1', 'a10', 'b', 'B', '', '0', '00', 'x y', 'x_y'];
    for (const a of names) {
      assert.equal(naturalCompare(a, a), 0);
      for (const b of names) if (a !== b) assert.equal(Math.sign(naturalCompare(a, b)), -Math.sign(naturalCompare(b, a)), `${a} ${b}`);
    }
  });
});

describe('listing entries', () => {
  const listing = {
    path: '/d/',
    entries: [
      { name: 'file10.txt', type: 'file', size: 10, mtime: '2024-05-01T12:00:00Z', link: '/d/file10.txt' },
      { name: 'file2.txt', type: 'file', size: 300, mtime: '2024-05-03T12:00:00Z', link: '/d/file2.txt' },
      { name: 'zdir', type: 'directory', size: 0, mtime: '2024-01-01T00:00:00Z', link: '/d/zdir/' },
      { name: 'Adir', type: 'directory', size: 0, mtime: '2024-06-01T00:00:00Z', link: '/d/Adir/' },
      { name: 'b.pdf', type: 'file', size: 20, mtime: '2024-05-02T12:00:00Z', link: '/d/b.pdf' },
      { name: 'evil', type: 'file', size: 1, mtime: 'garbage', link: '//evil.example/x' },
      { name: '', type: 'file' },
      null,
    ],
  };
  const names = (list) => list.map((e) => e.name);
  test('prepare skips broken entries and never keeps a foreign link', () => {
    const e = prepareEntries(listing, '/d/');
    assert.equal(e.length, 6);
    const evil = e.find((x) => x.name === 'evil');
    assert.equal(evil.link, '/d/evil');
    assert.equal(evil.mtime, 0);
    assert.deepEqual(prepareEntries({}, '/'), []);
    assert.deepEqual(prepareEntries(null, '/'), []);
  });
  const table = [
    ['name', 'asc', ['Adir', 'zdir', 'b.pdf', 'evil', 'file2.txt', 'file10.txt']],
    ['name', 'desc', ['zdir', 'Adir', 'file10.txt', 'file2.txt', 'evil', 'b.pdf']],
    ['size', 'asc', ['Adir', 'zdir', 'evil', 'file10.txt', 'b.pdf', 'file2.txt']],
    ['size', 'desc', ['Adir', 'zdir', 'file2.txt', 'b.pdf', 'file10.txt', 'evil']],
    ['mtime', 'desc', ['Adir', 'zdir', 'file2.txt', 'b.pdf', 'file10.txt', 'evil']],
    ['type', 'asc', ['Adir', 'zdir', 'evil', 'b.pdf', 'file2.txt', 'file10.txt']],
  ];
  for (const [sort, order, want] of table) {
    test(`sort ${sort} ${order}: folders first`, () => {
      assert.deepEqual(names(sortEntries(prepareEntries(listing, '/d/'), sort, order)), want);
    });
  }
  test('filter: case- and accent-insensitive substring', () => {
    const e = prepareEntries({ entries: [{ name: 'Résumé.PDF' }, { name: 'notes' }, { name: 'FILE2' }] }, '/');
    assert.deepEqual(names(filterEntries(e, 'resume')), ['Résumé.PDF']);
    assert.deepEqual(names(filterEntries(e, 'É.p')), ['Résumé.PDF']);
    assert.deepEqual(names(filterEntries(e, 'file')), ['FILE2']);
    assert.equal(filterEntries(e, '  ').length, 3);
    assert.deepEqual(filterEntries(e, 'nothing'), []);
  });
  test('sort and order in the query', () => {
    assert.deepEqual(sortFromQuery('?sort=size&order=desc'), { sort: 'size', order: 'desc' });
    assert.deepEqual(sortFromQuery('?sort=evil&order=up'), { sort: 'name', order: 'asc' });
    assert.deepEqual(sortFromQuery(''), { sort: 'name', order: 'asc' });
    assert.equal(queryWithSort('', 'name', 'asc'), '');
    assert.equal(queryWithSort('?x=1&sort=size', 'mtime', 'desc'), '?x=1&sort=mtime&order=desc');
    assert.equal(queryWithSort('?sort=size&order=desc', 'name', 'asc'), '');
  });
});

describe('sizes', () => {
  const table = [
    [0, '0 B'], [1, '1 B'], [1023, '1023 B'], [1024, '1.0 KiB'], [1536, '1.5 KiB'],
    [10 * 1024, '10 KiB'], [10188, '9.9 KiB'], [10189, '10 KiB'], [1023 * 1024, '1023 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'], [1.5 * MiB, '1.5 MiB'], [5 * 1024 ** 3, '5.0 GiB'],
    [1234 * 1024 ** 3, '1.2 TiB'], [2 ** 53, '8.0 PiB'], [-1, ''], [NaN, ''],
  ];
  for (const [n, want] of table) test(`${n} -> ${want}`, () => assert.equal(humanSize(n), want));
  test('exact sizes', () => {
    assert.equal(exactSize(1), '1 byte');
    assert.equal(exactSize(0), '0 bytes');
    assert.equal(exactSize(1234567), '1,234,567 bytes');
    assert.equal(groupDigits(999), '999');
    assert.equal(groupDigits(1000), '1,000');
  });
});

describe('dates', () => {
  const now = Date.parse('2024-05-10T12:00:00Z');
  const ago = (s) => now - s * 1000;
  const table = [
    [ago(0), 'just now'], [ago(59), 'just now'], [ago(60), '1 minute ago'], [ago(45 * 60), '45 minutes ago'],
    [ago(3600), '1 hour ago'], [ago(23 * 3600), '23 hours ago'], [ago(25 * 3600), 'yesterday'],
    [ago(2 * 86400), '2 days ago'], [ago(29 * 86400), '29 days ago'], [ago(30 * 86400), '2024-04-10'],
    [now + 30 * 1000, 'just now'], // another clock, a little ahead
    [now + 3600 * 1000, '2024-05-10'], // far ahead: the date
    [Date.parse('1999-12-31T23:59:59Z'), '1999-12-31'],
  ];
  for (const [ms, want] of table) test(`${new Date(ms).toISOString()} -> ${want}`, () => assert.equal(relativeDate(ms, now), want));
  test('the date is local: an offset moves the day', () => {
    assert.equal(relativeDate(ago(40 * 86400), now, 0), '2024-03-31');
    assert.equal(relativeDate(Date.parse('2024-03-31T23:30:00Z'), now, 120), '2024-04-01');
  });
  test('exact dates', () => {
    const t = Date.parse('2024-05-01T12:00:05Z');
    assert.equal(exactDate(t), '2024-05-01 12:00:05 UTC+00:00');
    assert.equal(exactDate(t, 120), '2024-05-01 14:00:05 UTC+02:00');
    assert.equal(exactDate(t, -570), '2024-05-01 02:30:05 UTC-09:30');
  });
  test('durations', () => {
    assert.equal(humanDuration(0.2), '1 s');
    assert.equal(humanDuration(59), '59 s');
    assert.equal(humanDuration(61), '1 min 01 s');
    assert.equal(humanDuration(3725), '1 h 2 min');
    assert.equal(humanDuration(90000), '1 d 1 h');
    assert.equal(humanDuration(Infinity), '');
  });
});

describe('URL encoding of names', () => {
  const table = [
    ['plain.txt', 'plain.txt'],
    ['<img src=x onerror=alert(1)>', '%3Cimg%20src=x%20onerror=alert(1)%3E'],
    ['"><svg onload=alert(1)>', '%22%3E%3Csvg%20onload=alert(1)%3E'],
    ['a%20b', 'a%2520b'],
    ['#x', '%23x'],
    ['?q', '%3Fq'],
    ['a/b', 'a%2Fb'],
    ['a\\b', 'a%5Cb'],
    ['evil\u202Egpj.exe', 'evil%E2%80%AEgpj.exe'],
    ['line\nbreak', 'line%0Abreak'],
    ['tab\there', 'tab%09here'],
    ['😀.png', '%F0%9F%98%80.png'],
    ["it's", 'it%27s'],
    ['a;b', 'a%3Bb'],
    ['c:x', 'c%3Ax'],
    ['$&+,=@!()*~-._', '$&+,=@!()*~-._'],
    ['...', '...'],
    ['\ud800x', '%EF%BF%BDx'], // a lone surrogate has no UTF-8: U+FFFD
    ['javascript:alert(1)', 'javascript%3Aalert(1)'],
  ];
  for (const [name, want] of table) {
    test(JSON.stringify(name), () => {
      const enc = encodeName(name);
      assert.equal(enc, want);
      assert.match(enc, /^[A-Za-z0-9\-._~!$&()*+,=@%]*$/, 'nothing that a path or an attribute could misread');
      if (!/[\ud800-\udfff]/.test(name)) assert.equal(decodeURIComponent(enc), name);
      // As one segment of a URL, it stays one segment and names this origin.
      const url = new URL(`/dir/${enc}`, 'http://host.example/');
      assert.equal(url.origin, 'http://host.example');
      assert.equal(url.pathname, `/dir/${enc}`);
      assert.equal(url.search + url.hash, '');
    });
  }
  test('decoding a segment for display', () => {
    assert.equal(decodeSegment('a%20b'), 'a b');
    assert.equal(decodeSegment('bad%FF'), 'bad%FF');
  });
});

describe('paths', () => {
  test('join', () => {
    assert.equal(joinPath('/', 'a b'), '/a%20b');
    assert.equal(joinPath('/d/', 'sub', true), '/d/sub/');
    assert.equal(joinPath('/d', '#1'), '/d/%231');
    assert.equal(joinPath('/d%20x/', '<b>', true), '/d%20x/%3Cb%3E/');
  });
  test('parent', () => {
    assert.equal(parentPath('/a/b/'), '/a/');
    assert.equal(parentPath('/a/b'), '/a/');
    assert.equal(parentPath('/a/'), '/');
    assert.equal(parentPath('/'), '/');
  });
  test('breadcrumbs', () => {
    assert.deepEqual(breadcrumbs('/'), [{ name: '', href: '/' }]);
    assert.deepEqual(breadcrumbs('/a%20b/%3Cx%3E/'), [
      { name: '', href: '/' }, { name: 'a b', href: '/a%20b/' }, { name: '<x>', href: '/a%20b/%3Cx%3E/' },
    ]);
  });
  test('display path', () => {
    assert.equal(displayPath('/a%20b/x%0Ay/'), '/a b/x\u240Ay/');
  });
  test('safe links', () => {
    assert.equal(safeLink('/d/a%20b', '/d/', 'a b', false), '/d/a%20b');
    assert.equal(safeLink('//evil.example/', '/d/', 'x', false), '/d/x');
    assert.equal(safeLink('/\\evil.example/', '/d/', 'x', false), '/d/x');
    assert.equal(safeLink('javascript:alert(1)', '/d/', 'x', true), '/d/x/');
    assert.equal(safeLink('/d/a b', '/d/', 'a b', false), '/d/a%20b');
    assert.equal(safeLink(undefined, '/', 'y', false), '/y');
  });
  const dest = [
    // [typed, dir, name, isDir, result]
    ['new.txt', '/d/', 'old.txt', false, { path: '/d/new.txt' }],
    ['new dir', '/d/', 'old', true, { path: '/d/new%20dir/' }],
    ['../', '/a/b/', 'f.txt', false, { path: '/a/f.txt' }],
    ['..', '/a/b/', 'f.txt', false, { path: '/a/f.txt' }],
    ['../x/g.txt', '/a/b/', 'f.txt', false, { path: '/a/x/g.txt' }],
    ['/top/', '/a/b/', 'f #1.txt', false, { path: '/top/f%20%231.txt' }],
    ['sub/', '/a/', 'dir', true, { path: '/a/sub/dir/' }],
    ['../../..', '/a/', 'f', false, { error: 'That path leads above the top folder.' }],
    ['', '/a/', 'f', false, { error: 'A name is needed.' }],
    ['..', '/a/', 'f', false, { path: '/f' }],
    ['.', '/a/', 'f', false, { path: '/a/f' }],
    ['x/../../y', '/a/', 'f', false, { path: '/y' }],
    ['a/b\0c', '/a/', 'f', false, { error: 'A name cannot contain a NUL character.' }],
  ];
  for (const [typed, dir, name, isDir, want] of dest) {
    test(`destination ${JSON.stringify(typed)} from ${dir}`, () => assert.deepEqual(resolveDestination(typed, dir, name, isDir), want));
  }
  test('names the user may not give', () => {
    assert.equal(nameProblem('ok'), '');
    assert.notEqual(nameProblem(''), '');
    assert.notEqual(nameProblem('.'), '');
    assert.notEqual(nameProblem('..'), '');
    assert.notEqual(nameProblem('a/b'), '');
    assert.notEqual(nameProblem('a\0b'), '');
    assert.notEqual(nameProblem('é'.repeat(128)), '');
    assert.equal(nameProblem('e'.repeat(255)), '');
  });
});

describe('display of hostile names', () => {
  const table = [
    ['<img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>'], // text, never markup: shown as is
    ['evil\u202Egpj.exe', 'evil\uFFFDgpj.exe'],
    ['a\u2066b\u2069c\u200Fd', 'a\uFFFDb\uFFFDc\uFFFDd'],
    ['line\nbreak\r', 'line\u240Abreak\u240D'],
    ['nul\u0000del\u007F', 'nul\u2400del\u2421'],
    ['😀 ok', '😀 ok'],
  ];
  for (const [name, want] of table) test(JSON.stringify(name), () => assert.equal(displayName(name), want));
});

describe('kinds', () => {
  const table = [
    ['x.PNG', 'file', 'image'], ['movie.mkv', 'file', 'video'], ['a.tar.gz', 'file', 'archive'],
    ['song.flac', 'file', 'audio'], ['report.pdf', 'file', 'pdf'], ['main.cpp', 'file', 'code'],
    ['notes.md', 'file', 'text'], ['.bashrc', 'file', 'file'], ['noext', 'file', 'file'],
    ['photos.jpg', 'directory', 'folder'], ['t.xlsx', 'file', 'sheet'], ['d.docx', 'file', 'doc'],
  ];
  for (const [name, type, want] of table) test(`${name} (${type}) -> ${want}`, () => assert.equal(iconKind(name, type), want));
  test('extensions', () => {
    assert.equal(extension('a.TAR.GZ'), 'tar.gz');
    assert.equal(extension('.hidden'), '');
    assert.equal(extension('a.b.c'), 'c');
  });
  test('viewable in the browser, or downloaded', () => {
    assert.equal(viewable('a.jpg'), true);
    assert.equal(viewable('a.pdf'), true);
    assert.equal(viewable('a.txt'), true);
    assert.equal(viewable('a.zip'), false);
    assert.equal(viewable('a.exe'), false);
    assert.equal(viewable('a.docx'), false);
  });
});

describe('uploads', () => {
  test('chunk plan', () => {
    assert.deepEqual(chunkPlan(0), [{ start: 0, end: 0, last: true }]);
    assert.deepEqual(chunkPlan(10, 4), [
      { start: 0, end: 4, last: false }, { start: 4, end: 8, last: false }, { start: 8, end: 10, last: true },
    ]);
    assert.deepEqual(chunkPlan(8, 4), [{ start: 0, end: 4, last: false }, { start: 4, end: 8, last: true }]);
    assert.deepEqual(chunkPlan(10, 4, 9), [{ start: 9, end: 10, last: true }]);
    const big = chunkPlan(10 * 1024 ** 3, 8 * MiB);
    assert.equal(big.length, 1280);
    assert.equal(big.at(-1).end, 10 * 1024 ** 3);
    assert.deepEqual(nextChunk(50, 40, 8), { start: 40, end: 40, last: true }, 'an offset past the end');
  });
  test('chunk size follows the speed, within bounds', () => {
    assert.equal(adaptChunk(8 * MiB, 8 * MiB, 1000), 16 * MiB, 'fast: at most twice');
    assert.equal(adaptChunk(8 * MiB, 8 * MiB, 60000), CHUNK_MIN, 'slow: at most half, at least the minimum');
    assert.equal(adaptChunk(8 * MiB, 8 * MiB, 4000), 8 * MiB);
    assert.equal(adaptChunk(CHUNK_MAX, CHUNK_MAX, 10), CHUNK_MAX);
    assert.equal(adaptChunk(8 * MiB, 0, 0), 8 * MiB);
  });
  test('backoff doubles up to a minute, with jitter', () => {
    assert.equal(backoffMs(1, () => 1), 1000);
    assert.equal(backoffMs(2, () => 1), 2000);
    assert.equal(backoffMs(3, () => 0), 3200);
    assert.equal(backoffMs(20, () => 1), 60000);
  });
  test('retryable answers', () => {
    for (const s of [0, 408, 429, 500, 502, 503, 504]) assert.equal(retryable(s), true, String(s));
    for (const s of [400, 403, 404, 409, 412, 413, 507]) assert.equal(retryable(s), false, String(s));
  });
  test('rate over a window', () => {
    assert.equal(rate([]), 0);
    assert.equal(rate([{ t: 0, bytes: 0 }, { t: 1000, bytes: 1000 }]), 1000);
    assert.equal(rate([{ t: 0, bytes: 0 }, { t: 9000, bytes: 100 }, { t: 10000, bytes: 2100 }]), 2000);
  });
  test('basic credentials are UTF-8', () => {
    assert.equal(basicAuth('Aladdin', 'open sesame'), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    assert.equal(basicAuth('é', 'ü'), `Basic ${Buffer.from('é:ü').toString('base64')}`);
  });
  test('shell quoting', () => {
    assert.equal(shellQuote('http://h/a b'), "'http://h/a b'");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(shellQuote('$(rm -rf ~)`x`'), "'$(rm -rf ~)`x`'");
  });
});

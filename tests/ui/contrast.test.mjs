// WCAG 2.x contrast of the browser page's colours (ui/app.css), light and dark: text 4.5:1
// (1.4.3 AA), the focus indicator, icons and input borders 3:1 (1.4.11). The colours are read
// from the CSS custom properties of the `:root` block and of the `:root` inside
// `@media (prefers-color-scheme: dark)` (which overrides the light ones it names); each pair
// below is one the CSS really puts together (the rule is named). node --test tests/ui/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

const css = readFileSync(new URL('../../ui/app.css', import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

// The declarations `--name: value;` of the first `{...}` after `from` (no nested braces).
function properties(block) {
  const props = {};
  for (const m of block.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)) props[m[1]] = m[2].trim();
  return props;
}
function blockAfter(source, re) {
  const m = re.exec(source);
  assert.ok(m, `no ${re} in ui/app.css`);
  const open = source.indexOf('{', m.index + m[0].length - 1);
  const close = source.indexOf('}', open);
  return source.slice(open + 1, close);
}

// The light :root is the top-level one (the first in the file); the dark one is inside the
// prefers-color-scheme media query.
const light = properties(blockAfter(css, /(^|\n):root\s*\{/));
const dark = { ...light, ...properties(blockAfter(css, /@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{/)) };

// The value of `prop` in the first rule whose selector is exactly `selector`.
function ruleValue(selector, prop) {
  const esc = selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const body = blockAfter(css, new RegExp(`(^|\\n|\\})\\s*${esc}\\s*\\{`));
  const m = new RegExp(`(^|;|\\s)${prop}\\s*:\\s*([^;]+);`).exec(body);
  assert.ok(m, `no ${prop} in ${selector}`);
  return m[2].trim();
}

function hex(value) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value);
  assert.ok(m, `not a hex colour: ${value}`);
  let h = m[1];
  if (h.length === 3) h = [...h].map((c) => c + c).join('');
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}

// WCAG 2.x relative luminance (sRGB linearisation with the 0.04045 threshold) and ratio.
function luminance([r, g, b]) {
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('the WCAG formula', () => {
  test('black on white is 21:1, a colour on itself 1:1', () => {
    assert.equal(contrast([0, 0, 0], [255, 255, 255]), 21);
    assert.equal(contrast([89, 99, 110], [89, 99, 110]), 1);
  });
  test('#767676 on white is the known 4.54:1', () => {
    assert.equal(contrast(hex('#767676'), hex('#ffffff')).toFixed(2), '4.54');
  });
});

// [what, foreground, background, minimum, where app.css pairs them]. A foreground or
// background is a custom property, or a literal colour given as `rule|property`.
const TEXT = 4.5;
const NON_TEXT = 3;
const pairs = [
  ['body text on the background', '--fg', '--bg', TEXT, 'body; .name; dialogs, menus'],
  ['body text on a button', '--fg', '--soft', TEXT, '.btn'],
  ['body text on a hovered row or button', '--fg', '--hover', TEXT, '.rows .row:hover, .btn:hover'],
  ['body text on the selected row', '--fg', '--sel', TEXT, '.rows .row.sel'],
  ['muted text on the background', '--muted', '--bg', TEXT, '.count, .size, .date, .message, .col, .up-status'],
  ['muted text on a hovered row', '--muted', '--hover', TEXT, '.rows .row:hover .size/.date'],
  ['muted text on the selected row', '--muted', '--sel', TEXT, '.rows .row.sel .size/.date'],
  ['link text on the background', '--accent', '--bg', TEXT, 'a { color: var(--accent) }'],
  ['primary button text', '--accent-fg', '--accent', TEXT, '.btn.primary'],
  ['danger button text', '.btn.danger|color', '--danger', TEXT, '.btn.danger'],
  ['danger text on the background', '--danger-fg', '--bg', TEXT, '.menu .danger, .dlg-error, failed .up-status'],
  ['toast text', '--toast-fg', '--toast-bg', TEXT, '.toast'],
  ['focus ring on the background', '--focus', '--bg', NON_TEXT, ':focus-visible outline'],
  ['focus ring on the selected row', '--focus', '--sel', NON_TEXT, '.grid:focus-visible .row.sel (outline inside the row)'],
  ['focus ring on a focused menu item', '--focus', '--hover', NON_TEXT, '.menu [role=menuitem]:focus-visible (its background is --hover)'],
  ['input border on the background', '--muted', '--bg', NON_TEXT, 'input[type=search] border (the filter box)'],
  ['error icon in a toast', '--toast-err', '--toast-bg', NON_TEXT, '.toast.error > .icon'],
  ...['folder', 'image', 'video', 'audio', 'pdf', 'archive', 'code', 'doc', 'sheet', 'slides'].map((k) => [
    `${k} icon on the background`, `--k-${k}`, '--bg', NON_TEXT, `.k-${k} (file-kind icon)`]),
];

// Pairs known to fail, with the reason (then the assertion is a todo, the CSS unchanged).
const KNOWN = {};

for (const [scheme, props] of [['light', light], ['dark', dark]]) {
  const colour = (ref) => {
    if (ref.startsWith('--')) {
      assert.ok(props[ref], `${ref} is not defined for ${scheme}`);
      return hex(props[ref]);
    }
    const [selector, prop] = ref.split('|');
    return hex(ruleValue(selector, prop));
  };
  const value = (ref) => (ref.startsWith('--') ? `${ref} ${props[ref]}` : ruleValue(...ref.split('|')));
  describe(`${scheme} colours`, () => {
    for (const [what, fg, bg, min, where] of pairs) {
      const ratio = contrast(colour(fg), colour(bg));
      const name = `${what}: ${value(fg)} on ${value(bg)} is ${ratio.toFixed(2)}:1, needs ${min}:1 (${where})`;
      const todo = KNOWN[`${scheme}: ${what}`];
      test(name, todo ? { todo } : {}, () => {
        assert.ok(ratio >= min, `${ratio.toFixed(2)} < ${min}`);
      });
    }
    // Not required by WCAG (separators and the outline of buttons that are identified by
    // their label): reported, not asserted.
    test(`--line separators on the background: ${contrast(colour('--line'), colour('--bg')).toFixed(2)}:1 (informational)`, () => {});
  });
}

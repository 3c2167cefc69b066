// scripts/check-links.mjs (run by `make lint` and on the unpacked npm tarball): on a tree with good
// and broken links it must report exactly the broken ones, one `file:line: link (why)` line each,
// and exit 1; on a tree with only good links it must exit 0 and print none. So the checker cannot
// silently pass everything.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHECK = path.join(root, 'scripts/check-links.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeward-links-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes { 'relative/path': 'text' } under a new folder `name` of tmp. */
function tree(name, files) {
  const dir = path.join(tmp, name);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

function check(args, cwd = root) {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, lines: result.stdout.split('\n').filter(Boolean), stderr: result.stderr };
}

const GOOD = {
  'README.md': [
    '# The Title',
    '',
    '## Section two: the `code` part, (with) punctuation!',
    '',
    '## Dup',
    '',
    '## Dup',
    '',
    'Setext heading',
    '--------------',
    '',
    '| a | b |',
    '| --- | --- |',
    '| [cell](sub/other.md) | x |',
    '',
    'See [other](sub/other.md#a-heading_with-under), [self](#the-title), [two](#section-two-the-code-part-with-punctuation),',
    '[dups](#dup) and [the second](#dup-1), [setext](#setext-heading), [html anchor](sub/other.md#custom-spot),',
    '[folder](sub/), [folder too](./sub), ![picture](sub/pic.png "a title"), [angle](<sub/other.md>),',
    '[ref][r], [code anchor](sub/code.rs#L10), [escaped](sub/with%20space.md).',
    '[web](https://example.com/nowhere.md), [mail](mailto:someone@example.com), <https://example.com/x.md>.',
    'Not links: `[in code](missing-in-inline-code.md)`, `` a `[nested](missing-in-double.md)` ``,',
    'a footnote[^1], \\[escaped\\](missing-escaped.md).',
    '',
    '```md',
    '[in a fence](missing-in-fence.md)',
    '[fenced]: missing-fenced-ref.md',
    '```',
    '',
    '~~~',
    '[tilde fence](missing-in-tilde.md)',
    '~~~',
    '',
    '[r]: sub/other.md#a-heading_with-under',
    '[^1]: A footnote, not a link definition.',
    '',
  ].join('\n'),
  'sub/other.md': '# A *heading*_with-under\n\n<a name="custom-spot"></a>\n\nBack to [the top](../README.md#the-title).\n',
  'sub/pic.png': 'not really a picture',
  'sub/code.rs': '// code\n',
  'sub/with space.md': '# Spaced\n',
};

test('a tree with only good links passes, and says how many it checked', () => {
  const dir = tree('good', GOOD);
  const result = check([CHECK, '--dir', dir]);
  assert.deepEqual(result.lines, [], result.stderr);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /\b16 relative links in 3 Markdown files\b/);
});

test('every broken link is reported with its file and line, and the exit status is 1', () => {
  const dir = tree('broken', {
    ...GOOD,
    'docs/broken.md': [
      '# Broken',
      '',
      'A [missing file](nowhere.md) and [a missing anchor](../README.md#no-such-heading).',
      '',
      'Out of the tree: [outside](../../outside/NOTES.md), [anchor case](../README.md#The-Title).',
      '`[fine, in code](nowhere.md)` but not [after the code](gone.md)',
      '[ref]: ../sub/missing.md',
      '[self](#nothing-here)',
    ].join('\n'),
  });
  const result = check([CHECK, '--dir', dir]);
  assert.equal(result.status, 1, result.stderr);
  assert.deepEqual(result.lines, [
    'docs/broken.md:3: nowhere.md (no such file)',
    'docs/broken.md:3: ../README.md#no-such-heading (no heading #no-such-heading in README.md)',
    `docs/broken.md:5: ../../outside/NOTES.md (outside ${dir})`,
    'docs/broken.md:5: ../README.md#The-Title (no heading #The-Title in README.md)',
    'docs/broken.md:6: gone.md (no such file)',
    'docs/broken.md:7: ../sub/missing.md (no such file)',
    'docs/broken.md:8: #nothing-here (no heading #nothing-here in docs/broken.md)',
  ]);
  assert.match(result.stderr, /7 broken of/);
});

test('in a repository, a target must be tracked by git, not only on disk', (t) => {
  const git = spawnSync('git', ['--version']);
  if (git.status !== 0) t.skip('git is not installed');
  // The checker reads the repository it lives in: give it one.
  const repo = tree('repo', {
    ...GOOD,
    'scripts/check-links.mjs': fs.readFileSync(CHECK, 'utf8'),
    'docs/guide.md': '# Guide\n\n[untracked](notes.md), [tracked](../README.md#dup-1)\n',
    'docs/notes.md': '# Notes, only on this disk\n',
  });
  const gitIn = (...args) => assert.equal(spawnSync('git', args, { cwd: repo }).status, 0, `git ${args.join(' ')}`);
  gitIn('init', '-q');
  gitIn('add', 'README.md', 'sub', 'scripts', 'docs/guide.md');
  const result = check([path.join(repo, 'scripts/check-links.mjs')], repo);
  assert.equal(result.status, 1, result.stderr);
  assert.deepEqual(result.lines, ['docs/guide.md:3: notes.md (not tracked by git: a fresh clone lacks it)']);
  gitIn('add', 'docs/notes.md');
  const fixed = check([path.join(repo, 'scripts/check-links.mjs')], repo);
  assert.deepEqual(fixed.lines, [], fixed.stderr);
  assert.equal(fixed.status, 0, fixed.stderr);
});

test('a usage error exits 2', () => {
  assert.equal(check([CHECK, '--dir', path.join(tmp, 'no-such-folder')]).status, 2);
  assert.equal(check([CHECK, '--bogus']).status, 2);
});

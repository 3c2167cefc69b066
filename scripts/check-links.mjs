#!/usr/bin/env node
// Checks the relative links of Markdown files: every `[text](path)`, `[text](path#anchor)`,
// `![alt](path)` and reference definition `[x]: path` must name a file (or folder) that exists,
// and an `#anchor` into a Markdown file must be one of its headings' GitHub slugs (lowercase,
// spaces -> '-', punctuation other than '-' and '_' removed, '-1', '-2'... for repeats) or an
// explicit `<a name|id="...">`. Links with a scheme (https:, mailto:, ...) are not checked, nor
// links inside fenced code blocks or inline code. A link that leaves the checked tree is broken.
//
//   node scripts/check-links.mjs              every git-tracked *.md file of the repository; a
//                                             target must be tracked too (a fresh clone has it)
//   node scripts/check-links.mjs --dir <path> every *.md file under <path> (node_modules and .git
//                                             skipped), e.g. an unpacked npm tarball
//
// Prints one line per broken link, `file:line: link (why)`, and exits 1 if there is any; exits 2
// on a usage error. Node 20, no dependencies.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Repository mode: js/build.sh copies these into the npm package, whose README links to them
// relative to the package (js/docs/policy.md is the repository's docs/policy.md).
const BUILD_COPIES = [
  ['js/docs', 'docs'],
  ['js/LICENSE', 'LICENSE'],
];

function usage(message) {
  process.stderr.write(`check-links: ${message}\nusage: node scripts/check-links.mjs [--dir <path>]\n`);
  process.exit(2);
}

/** The files to check and how to tell whether a target exists, for either mode. */
function collect(args) {
  if (args.length === 0) {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const git = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (git.status !== 0) usage(`git ls-files failed in ${root}: ${git.stderr || git.error}`);
    const tracked = new Set(git.stdout.split('\0').filter(Boolean));
    const folders = new Set();
    for (const file of tracked) {
      for (let dir = path.posix.dirname(file); dir !== '.'; dir = path.posix.dirname(dir)) folders.add(dir);
    }
    const real = (rel) => {
      for (const [copy, source] of BUILD_COPIES) {
        if (rel === copy || rel.startsWith(`${copy}/`)) return source + rel.slice(copy.length);
      }
      return rel;
    };
    return {
      root,
      what: 'the repository',
      files: [...tracked].filter((f) => f.endsWith('.md')).sort(),
      // A target must be in the repository, not only on this disk.
      lookup(rel) {
        const file = real(rel);
        const onDisk = fs.existsSync(path.join(root, file));
        if (tracked.has(file)) return onDisk ? { kind: 'file', file } : { missing: 'deleted from the working tree' };
        if (folders.has(file) || file === '') return { kind: 'folder', file };
        return { missing: onDisk ? 'not tracked by git: a fresh clone lacks it' : 'no such file' };
      },
    };
  }
  if (args.length === 2 && args[0] === '--dir') {
    const root = path.resolve(args[1]);
    if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) usage(`not a directory: ${args[1]}`);
    const files = [];
    const walk = (rel) => {
      for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const child = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (entry.name !== 'node_modules' && entry.name !== '.git') walk(child);
        } else if (entry.name.endsWith('.md')) {
          files.push(child);
        }
      }
    };
    walk('');
    return {
      root,
      what: args[1],
      files: files.sort(),
      lookup(rel) {
        const stat = fs.statSync(path.join(root, rel), { throwIfNoEntry: false });
        if (!stat) return { missing: 'no such file' };
        return { kind: stat.isDirectory() ? 'folder' : 'file', file: rel };
      },
    };
  }
  usage(`unexpected arguments: ${args.join(' ')}`);
}

/**
 * The text with fenced code blocks and inline code spans blanked out (newlines and columns kept,
 * so line numbers stay right).
 */
function maskCode(text) {
  const lines = text.split('\n');
  let fence = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (fence) {
      const close = line.match(/^\s*(`+|~+)\s*$/);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) fence = null;
      lines[i] = '';
      continue;
    }
    const open = line.match(/^\s*(`{3,}|~{3,})(.*)$/);
    if (open && !(open[1][0] === '`' && open[2].includes('`'))) {
      fence = open[1];
      lines[i] = '';
    }
  }
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  let out = lines.join('\n');
  // Inline code: a run of n backticks up to the next run of exactly n, within one paragraph.
  const runs = [...out.matchAll(/`+/g)];
  let masked = '';
  let at = 0;
  for (let r = 0; r < runs.length; r++) {
    const open = runs[r];
    if (open.index < at) continue;
    const close = runs.slice(r + 1).find((c) => c[0].length === open[0].length);
    if (!close) continue;
    const body = out.slice(open.index, close.index + close[0].length);
    if (/\n[ \t]*\n/.test(body)) continue;
    masked += out.slice(at, open.index) + blank(body);
    at = close.index + close[0].length;
  }
  out = masked + out.slice(at);
  return out;
}

/** GitHub's anchor for a heading's text. */
function slug(heading) {
  const text = heading
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // images: their alt text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // links: their text
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1') // reference links
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/`/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file defines: its headings' slugs and explicit `<a name|id>`. */
function anchors(text) {
  const found = new Set();
  const seen = new Map();
  const add = (heading) => {
    const base = slug(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    found.add(n === 0 ? base : `${base}-${n}`);
  };
  // Headings are read from the text without fenced code (inline code is part of a heading).
  const lines = text.split('\n');
  let fence = null;
  let previous = '';
  for (const line of lines) {
    if (fence) {
      const close = line.match(/^\s*(`+|~+)\s*$/);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) fence = null;
      previous = '';
      continue;
    }
    const open = line.match(/^\s*(`{3,}|~{3,})/);
    if (open) {
      fence = open[1];
      previous = '';
      continue;
    }
    const atx = line.match(/^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/);
    if (atx) {
      add(atx[1] ?? '');
      previous = '';
      continue;
    }
    const setext = /^ {0,3}(=+|-+)[ \t]*$/.test(line);
    const paragraphLine = previous.trim() !== '' && !/^\s*([-*+]|\d+[.)])\s|^\s*\||^ {4}|^\s*>/.test(previous);
    if (setext && paragraphLine) {
      add(previous);
      previous = '';
      continue;
    }
    previous = line;
  }
  for (const m of text.matchAll(/<a\s[^>]*?\b(?:name|id)\s*=\s*["']([^"']+)["']/gi)) found.add(m[1]);
  return found;
}

/** Every link destination in the (code-masked) text, with its line number. */
function links(masked) {
  const found = [];
  const lineOf = (index) => masked.slice(0, index).split('\n').length;
  // Inline links and images: `](destination "title")`, not an escaped `\]`.
  const inline = /(?<!\\)\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  for (const m of masked.matchAll(inline)) found.push({ line: lineOf(m.index), target: m[1] });
  // Reference definitions: `[label]: destination` at the start of a line (not a `[^1]:` footnote).
  const reference = /^ {0,3}\[(?!\^)(?:[^\]\\\n]|\\.)+\]:[ \t]*(<[^>\n]*>|\S+)/gm;
  for (const m of masked.matchAll(reference)) found.push({ line: lineOf(m.index), target: m[1] });
  return found
    .map(({ line, target }) => ({ line, target: target.replace(/^<(.*)>$/, '$1') }))
    .filter(({ target }) => target !== '')
    .sort((a, b) => a.line - b.line);
}

function decode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function main() {
  const tree = collect(process.argv.slice(2));
  const texts = new Map();
  const read = (rel) => {
    if (!texts.has(rel)) texts.set(rel, fs.readFileSync(path.join(tree.root, rel), 'utf8'));
    return texts.get(rel);
  };
  const anchorCache = new Map();
  const anchorsOf = (rel) => {
    if (!anchorCache.has(rel)) anchorCache.set(rel, anchors(read(rel)));
    return anchorCache.get(rel);
  };
  const broken = [];
  let checked = 0;
  for (const file of tree.files) {
    for (const { line, target } of links(maskCode(read(file)))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // a scheme: not ours to check
      checked++;
      const report = (why) => broken.push(`${file}:${line}: ${target} (${why})`);
      const hash = target.indexOf('#');
      const pathPart = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
      const anchor = hash < 0 ? null : decode(target.slice(hash + 1));
      let rel;
      if (pathPart === '') {
        rel = file;
      } else {
        const from = pathPart.startsWith('/') ? '' : path.posix.dirname(file);
        rel = path.posix.normalize(path.posix.join(from, decode(pathPart).replace(/^\/+/, '')));
        rel = rel.replace(/\/+$/, '');
        if (rel === '.') rel = '';
      }
      if (rel === '..' || rel.startsWith('../')) {
        report(`outside ${tree.what}`);
        continue;
      }
      const found = tree.lookup(rel);
      if (found.missing) {
        report(found.missing);
        continue;
      }
      if (anchor !== null && anchor !== '' && found.kind === 'file' && found.file.endsWith('.md')) {
        if (!anchorsOf(found.file).has(anchor)) report(`no heading #${anchor} in ${found.file}`);
      }
    }
  }
  for (const line of broken) process.stdout.write(`${line}\n`);
  const summary = `${checked} relative links in ${tree.files.length} Markdown files of ${tree.what}`;
  if (broken.length > 0) {
    process.stderr.write(`check-links: ${broken.length} broken of ${summary}\n`);
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`check-links: ${summary}, none broken\n`);
}

main();

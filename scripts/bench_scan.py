#!/usr/bin/env python3
"""`make bench-scan` (scripts/bench-scan.sh): times `edgeward scan` and ripgrep over the same trees
with the same pattern, and writes the Markdown report on stdout.

  scripts/bench_scan.py EDGEWARD WORKDIR
  scripts/bench_scan.py --generate DIR BYTES      (what the first runs in a child process, so that
                                                  the corpus it reads does not swell this process,
                                                  whose size each tool's fork starts with)

WORKDIR is a scratch directory the caller removes. The pattern is read from src/audit.rs
(TOKEN_PATTERN), so both tools always search for the same thing.
"""
import base64, datetime, hashlib, hmac, json, os, platform, random, re, statistics, subprocess, sys, time
from machine import cpu_model

rounds = int(os.environ.get("BENCH_SCAN_ROUNDS", "3"))
gib = min(16.0, float(os.environ.get("BENCH_SCAN_GIB", "2")))
registry = os.path.expanduser(os.environ.get("BENCH_SCAN_REGISTRY", "~/.cargo/registry/src"))

with open("src/audit.rs") as f:
    pattern = re.search(r'pub const TOKEN_PATTERN: &str =\s*r"([^"]+)";', f.read()).group(1)

def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def planted(i):
    """A token to plant: HS256, alg none, and ES256-shaped ones, short- and long-lived."""
    now = 1_900_000_000
    claims = {"iss": "https://idp.example.com", "sub": f"bot-{i}", "aud": "orders-api", "iat": now - 10,
              "exp": now + (600 if i % 3 else 90 * 86400), "scope": "read:orders" if i % 5 else "orders:*"}
    kind = i % 4
    alg = ["HS256", "none", "ES256", "RS256"][kind]
    head = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": f"k{i % 7}"}).encode())
    body = b64(json.dumps(claims).encode())
    signing_input = f"{head}.{body}"
    if alg == "HS256":
        sig = b64(hmac.new(b"bench secret", signing_input.encode(), hashlib.sha256).digest())
    elif alg == "none":
        sig = ""
    else:
        sig = b64(random.randbytes(64 if alg == "ES256" else 256))
    return f"{signing_input}.{sig}"

def corpus():
    """Up to 64 MiB of real source text (the registry's .rs/.toml/.md files), else generated words."""
    chunks, total = [], 0
    if os.path.isdir(registry):
        for root, dirs, files in os.walk(registry):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".rs", ".toml", ".md", ".json", ".yaml", ".yml")):
                    try:
                        with open(os.path.join(root, name), "rb") as f:
                            data = f.read(1 << 20)
                    except OSError:
                        continue
                    if b"\0" not in data:
                        chunks.append(data)
                        total += len(data)
                if total >= 64 << 20:
                    return b"".join(chunks)
    if total:
        return b"".join(chunks)
    words = "the key they money token fn let struct impl return self value error config eyes".split()
    rng = random.Random(1)
    return "\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(500_000)).encode()

def generate(root, size):
    """Files of 64 KiB to 4 MiB, in directories of 50, a token planted about every MiB."""
    rng = random.Random(7)
    text = corpus()
    written, files, tokens, i = 0, 0, 0, 0
    while written < size:
        d = os.path.join(root, f"d{files // 50:04d}")
        os.makedirs(d, exist_ok=True)
        n = min(rng.randint(64 << 10, 4 << 20), size - written)
        start = rng.randrange(0, max(1, len(text) - n))
        data = bytearray(text[start:start + n])
        while len(data) < n:
            data += text[: n - len(data)]
        for at in range(rng.randrange(0, 1 << 20), len(data), 1 << 20):
            line_end = data.find(b"\n", at)
            if line_end < 0:
                break
            data[line_end:line_end] = f'\ntoken = "{planted(i)}"'.encode()
            i += 1
            tokens += 1
        with open(os.path.join(d, f"f{files:06d}.rs"), "wb") as f:
            f.write(data)
        written += len(data)
        files += 1
    return files, written, tokens

def one_line(path, size):
    """One file of `size` bytes without a newline: token bytes and spaces, two tokens at the end."""
    block = (b"A" * 1000 + b" ") * 1024
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)
        f.write(b" " + planted(2).encode() + b" " + planted(1).encode())

def hwm_mib(pid):
    """The process's peak resident set (VmHWM) so far, MiB; None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None

def run(cmd, out):
    """Wall seconds and peak RSS (MiB) of one run, stdout to `out` (a file: ripgrep would stop at
    the first match of each file when writing to /dev/null). The peak is VmHWM read every 2 ms
    (wait4's ru_maxrss would count the pages of this Python process the child was forked from)."""
    with open(out, "wb") as f:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.DEVNULL)
        peak = 0.0
        while True:
            done = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            if done is not None:
                break
            peak = max(peak, hwm_mib(proc.pid) or 0.0)
            time.sleep(0.002)
        code = proc.wait()
        wall = time.perf_counter() - start
    if code not in (0, 1):
        sys.exit(f"bench-scan: {' '.join(cmd)} exited {code}")
    return wall, peak

def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)

def du(root):
    total, files = 0, 0
    for r, _, names in os.walk(root):
        for n in names:
            try:
                total += os.lstat(os.path.join(r, n)).st_size
                files += 1
            except OSError:
                pass
    return files, total

def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())

if sys.argv[1] == "--generate":
    print(json.dumps(generate(sys.argv[2], int(sys.argv[3]))))
    sys.exit(0)
edgeward, work = sys.argv[1], sys.argv[2]

trees = []
if os.path.isdir(registry):
    files, size = du(registry)
    trees.append(("cargo registry sources (`~/.cargo/registry/src`)", registry, files, size, []))
gen = os.path.join(work, "tree")
os.makedirs(gen)
made = subprocess.run([sys.executable, __file__, "--generate", gen, str(int(gib * (1 << 30)))],
                      check=True, capture_output=True, text=True)
files, size, tokens = json.loads(made.stdout)
trees.append((f"generated: {gib:g} GiB of source text, {tokens} planted tokens", gen, files, size, []))
big = os.path.join(work, "one-line")
os.makedirs(big)
one_line(os.path.join(big, "huge.txt"), 1 << 30)
trees.append(("one 1 GiB file, a single line", big, 1, (1 << 30), ["--max-filesize", "2G"]))

load_before = load()
rows = []
for label, root, files, size, extra in trees:
    rg = ["rg", "--no-config", "--no-messages", "-n", "--column", "-o", "-e", pattern, root]
    ew = [edgeward, "scan", "--format", "json", "--fail-on", "never", "--now", "1900000000", *extra, root]
    out_rg, out_ew = os.path.join(work, "rg.out"), os.path.join(work, "ew.out")
    run(rg, out_rg), run(ew, out_ew)  # warm-up: the page cache, for both
    t_rg, t_ew, m_rg, m_ew = [], [], [], []
    for _ in range(rounds):
        w, m = run(rg, out_rg); t_rg.append(w); m_rg.append(m)
        w, m = run(ew, out_ew); t_ew.append(w); m_ew.append(m)
    rows.append((label, files, size, statistics.median(t_rg), statistics.median(t_ew), max(m_rg), max(m_ew),
                 count_lines(out_rg), count_lines(out_ew)))
load_after = load()

cpu = cpu_model()
rg_version = subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout.splitlines()[0]

print("# `edgeward scan` against ripgrep\n")
print(f"Written by `make bench-scan` (scripts/bench-scan.sh) on {datetime.date.today()}: {cpu}, {os.cpu_count()} cores,")
print(f"{rg_version}, {rounds} timed runs of each tool per tree after a warm-up run (page cache warm), medians.")
print(f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after}.\n")
print("Both walk the tree the same way (.gitignore and hidden files; two threads each) and search for the same")
print("pattern, `edgeward::audit::TOKEN_PATTERN`; ripgrep prints each match (`rg -n --column -o -e PATTERN`),")
print("`edgeward scan --format json` also checks the bytes around each match, decodes every candidate and judges")
print("it, and prints one JSON line per token. Output goes to a file for both. The target: edgeward within 1.5×")
print("ripgrep's wall time. *Peak RSS*: the largest VmHWM of the runs (sampled every 2 ms). edgeward reads")
print("256 KiB chunks, so its memory does not follow file or line sizes; ripgrep memory-maps single files and")
print("holds a whole line.\n")
print("| tree | files | MiB | ripgrep s | edgeward s | edgeward / ripgrep | ≤ 1.5× | ripgrep peak RSS MiB | edgeward peak RSS MiB | ripgrep matches | edgeward tokens |")
print("| --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: |")
for label, files, size, rg, ew, mrg, mew, nrg, new in rows:
    ratio = ew / rg if rg else float("inf")
    print(f"| {label} | {files} | {size / (1 << 20):.0f} | {rg:.3f} | {ew:.3f} | {ratio:.2f}× | {'yes' if ratio <= 1.5 else 'no'} | {mrg:.0f} | {mew:.0f} | {nrg} | {new} |")
print()
print("ripgrep's matches include strings that fit the pattern but are no token (and tokens inside longer runs);")
print("edgeward's count is of tokens after decoding. The generated trees are made in a temporary directory and")
print("removed at the end; `BENCH_SCAN_GIB` (default 2) and `BENCH_SCAN_ROUNDS` (default 3) change the run.")
print("ripgrep is the distribution's build (its version above); edgeward is built with the `regex` crate 1.13,")
print("whose engine was rewritten (regex-automata) after that ripgrep was released: likely much of the gap.")

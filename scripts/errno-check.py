#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check that every errno the selftests assert is documented.

The documentation side
  Documentation/userspace-api/vduse.rst gives each operation an errno
  table: a reStructuredText simple table whose first column holds errno
  names (EFAULT, EINVAL, ...), indented under the operation it belongs
  to, which is the last line before the table that starts in column 0
  and opens with a literal - a definition list term such as
  ``VDUSE_VQ_SETUP`` or ``read()``, or a paragraph such as
  ``vdpa dev add`` fails with:.  Two more things are read from the doc:
  the "Any other ioctl number on <node> fails with ``ENOTTY``" rule of a
  section, which allows that errno for every ioctl documented in another
  section (a test calling an ioctl on the wrong node), and, as hints for
  the report only, errnos that the prose mentions next to an operation.
  Sysfs attributes are checked against the "fails with EFOO" sentences of
  their entries in Documentation/ABI/testing/sysfs-class-vduse, where
  vduse.rst sends the reader.

The test side
  tools/testing/selftests/vduse/*.c but vduse_fuzz_test.c, comments
  removed and cut into statements.  An operation is an ioctl() whose
  request is a VDUSE_* name, read()/write() on a descriptor named like
  the VDUSE ones (fd, self->fd, ctrl, ...), open() of a /dev/vduse path,
  a sysfs write to /sys/class/vduse/... through vduse_sysfs_write(), or
  a call of a wrapper: a function (of vduse_lib.c and the other helper
  files, or static in the same test) whose body makes exactly one
  errno-setting call and that call is an operation.  Two assertion
  forms are recognised:

    EXPECT_EQ(-1, ioctl(fd, VDUSE_X, &arg));    the operation, then
    EXPECT_EQ(EFOO, errno);                     errno within 3 lines

  where statements in between may only assign or assert without calls,
  and

    EXPECT_EQ(-EFOO, wrapper(...));             a wrapper that returns
    ret = wrapper(...); EXPECT_EQ(-EFOO, ret);  -errno, in the statement
    if (wrapper(...) == -EFOO) ...              or assigned just before

  Each (operation, errno) pair found must be in the operation's table.
  An ioctl without a table, or not documented at all, is a finding too;
  other operations (read(), write(), open(), sysfs writes) are only
  checked when the documentation has a table (or ABI entry) for them.

What is skipped rather than guessed (-v lists each case)
  errnos held in variables, EXPECT_NE, ioctls whose request is not a
  VDUSE_* name (_IO(VDUSE_BASE, 0x7f) and the like, ENOTTY cases of the
  "any other ioctl" rule), statements with more than one errno-setting
  call, wrappers making several calls that set errno, values whose
  origin is not in sight, descriptors that may not be VDUSE nodes, sysfs
  reads, and whatever the parser does not understand.  The node a
  descriptor belongs to is not tracked: read()/write() on the control
  node are checked against the device node's tables.

Exit status: 0 when every pair is documented, 1 on any finding (or when
nothing was found to check, which means the parser lost its way), 2 on
usage errors.
"""
import argparse
import errno as errno_mod
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DOC = os.path.join(TOP, "Documentation/userspace-api/vduse.rst")
DEFAULT_ABI = os.path.join(TOP, "Documentation/ABI/testing/sysfs-class-vduse")
DEFAULT_TESTS = os.path.join(TOP, "tools/testing/selftests/vduse")
IGNORED_FILES = {"vduse_fuzz_test.c"}
# How far (in lines) an errno check may be from the call it checks.
WINDOW = 3

# Every name, aliases included (errorcode keeps one name per value).
ERRNOS = {n for n in dir(errno_mod)
          if re.fullmatch(r"E[A-Z0-9]+", n)} | {
    "ENOTSUPP", "ERESTARTSYS", "EPROBE_DEFER", "ENOIOCTLCMD", "EBADTYPE"}

# Calls that may set errno; a statement or wrapper with more than one of
# them is ambiguous.
ERRNO_CALLS = {
    "ioctl", "read", "write", "open", "openat", "close", "pread", "pwrite",
    "readv", "writev", "mmap", "munmap", "mprotect", "madvise", "pipe",
    "pipe2", "eventfd", "socket", "bind", "listen", "accept", "accept4",
    "connect", "send", "sendto", "sendmsg", "recv", "recvfrom", "recvmsg",
    "poll", "ppoll", "select", "epoll_wait", "fcntl", "dup", "dup2", "dup3",
    "fork", "waitpid", "wait", "kill", "usleep", "nanosleep", "stat",
    "fstat", "lstat", "access", "unlink", "mkdir", "rmdir", "mount",
    "umount", "umount2", "system", "syscall", "fopen", "fclose", "fread",
    "fwrite", "fgets", "fscanf", "fprintf", "unshare", "setns", "prctl",
    "setrlimit", "getrlimit", "mlock", "munlock", "truncate", "ftruncate",
    "memfd_create", "sched_setaffinity", "sched_getaffinity", "execvp",
    "execv", "glob", "opendir", "readdir", "closedir", "clock_gettime",
    "pthread_create", "pthread_join",
}
# Calls that never touch errno, and what the harness provides.
HARMLESS_CALLS = {
    "sizeof", "memcpy", "memset", "memcmp", "strlen", "strcmp", "strncmp",
    "strcpy", "strncpy", "strchr", "strrchr", "snprintf", "sprintf",
    "ARRAY_SIZE", "offsetof", "TH_LOG", "_IO", "_IOR", "_IOW", "_IOWR",
    "__atomic_load_n", "__atomic_store_n", "__atomic_add_fetch",
    "__atomic_fetch_add", "__atomic_sub_fetch", "htons", "htonl", "ntohs",
    "ntohl", "le16toh", "le32toh", "le64toh", "htole16", "htole32",
    "htole64", "CPU_ZERO", "CPU_SET", "CPU_ISSET", "WIFEXITED",
    "WEXITSTATUS", "WIFSIGNALED", "WTERMSIG", "min", "max",
}
KEYWORDS = {"if", "while", "for", "switch", "return", "do", "else", "case",
            "sizeof", "defined", "typeof", "__typeof__", "_Alignof"}
ASSERT_RE = re.compile(r"\b(?:EXPECT|ASSERT)_[A-Z_]+\s*\(")
# Descriptors that are VDUSE nodes in these tests.
VDUSE_FD_RE = re.compile(
    r"^(?:self->|d->|s->|c->)?(?:fd|ctrl|ctrl_fd|dev_fd)$")
# The wrappers the heuristic cannot work out by itself.
SYSFS_WRITERS = {"vduse_sysfs_write"}
SYSFS_READERS = {"vduse_sysfs_read"}
OPENERS = {"vduse_dev_open": "open()", "vduse_ctrl_open": "open()"}


def rel(path):
    try:
        r = os.path.relpath(path)
    except ValueError:
        return path
    return path if r.startswith("../../") else r


# ---------------------------------------------------------------- the doc

def heading_at(lines, i):
    """The title if lines[i] is a section title (underlined)."""
    if i + 1 >= len(lines):
        return None
    title, under = lines[i].rstrip(), lines[i + 1].rstrip()
    if (title and not title[0].isspace() and under
            and re.fullmatch(r"([=\-~^\"'`#*+])\1{2,}", under)
            and len(under) >= len(title.strip())
            and not re.fullmatch(r"[=\-~^\"'`#*+ ]+", title)):
        return title.strip()
    return None


TABLE_BORDER = re.compile(r"^( *)(=+)( +=+)*\s*$")


class Doc:
    """Errno tables, ENOTTY-style blanket rules and prose mentions."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.tables = {}       # op -> set of errnos
        self.table_line = {}   # op -> line of its (first) table
        self.terms = {}        # op -> (line, section)
        self.blanket = []      # (section, errno, line)
        self.prose = {}        # (op, errno) -> line
        self.ntables = 0
        with open(path, encoding="utf-8") as f:
            self.lines = f.read().split("\n")
        self.parse()

    @staticmethod
    def term_ops(line):
        lits = re.findall(r"``([^`]+)``", line)
        ops = [norm_op(x) for x in lits if is_op_name(x)]
        if not ops and lits and line.startswith("``"):
            ops = [norm_op(lits[0])]
        return ops

    def parse(self):
        lines = self.lines
        section = None
        owner = None        # ops of the last column-0 line, if a term
        para, para_start = [], 0
        i = 0
        while i < len(lines):
            line = lines[i]
            title = heading_at(lines, i)
            if title is not None:
                self.flush_para(para, para_start, section)
                para = []
                section, owner = title, None
                i += 2
                continue
            m = TABLE_BORDER.match(line)
            if m and line.strip():
                self.flush_para(para, para_start, section)
                para = []
                i = self.parse_table(i, len(m.group(1)), owner)
                continue
            if not line.strip():
                self.flush_para(para, para_start, section)
                para = []
                i += 1
                continue
            if not line[0].isspace():
                owner = None
                # A term: a definition list's (its definition follows
                # indented), or a one-line label paragraph such as
                # ``read()`` or ``vdpa dev add`` fails with:.
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                prev = lines[i - 1] if i else ""
                first = not prev.strip() or prev[0].isspace() or \
                    heading_at(lines, i - 2) is not None
                if line.startswith("``") and first and \
                        (not nxt.strip() or nxt[0].isspace()):
                    owner = self.term_ops(line) or None
                    for op in owner or ():
                        self.terms.setdefault(op, (i + 1, section))
            if not para:
                para_start = i + 1
            para.append(line)
            i += 1
        self.flush_para(para, para_start, section)

    def parse_table(self, i, indent, owner):
        """Parse the simple table starting at border line i; return the
        index of the line after it."""
        lines = self.lines
        start = i
        errnos = set()
        other_rows = 0
        i += 1
        while i < len(lines):
            line = lines[i]
            m = TABLE_BORDER.match(line)
            if m and len(m.group(1)) == indent:
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                nind = len(nxt) - len(nxt.lstrip())
                if not nxt.strip() or nind < indent:
                    i += 1
                    break
                i += 1
                continue
            if line.strip() and len(line) - len(line.lstrip()) < indent:
                break   # not a table after all
            cell = line[indent:].split(None, 1)
            if cell and not line[indent:indent + 1].isspace():
                if cell[0] in ERRNOS:
                    errnos.add(cell[0])
                else:
                    other_rows += 1
            i += 1
        if errnos and owner:
            self.ntables += 1
            for op in owner:
                self.tables.setdefault(op, set()).update(errnos)
                self.table_line.setdefault(op, start + 1)
        return i

    def flush_para(self, para, start, section):
        if not para:
            return
        text = " ".join(x.strip() for x in para)
        for m in re.finditer(r"Any other ioctl\b[^.]*?\bfails? with\s+"
                             r"``(E[A-Z0-9]+)``", text):
            self.blanket.append((section, m.group(1), start))
        ops = [norm_op(x) for x in re.findall(r"``([^`]+)``", text)
               if is_op_name(x)]
        errs = [x for x in re.findall(r"``(E[A-Z0-9]+)``", text)
                if x in ERRNOS]
        for op in ops:
            for e in errs:
                self.prose.setdefault((op, e), start)

    def allowed(self, op, err):
        """(documented?, how) for an ioctl or operation."""
        if err in self.tables.get(op, ()):
            return True, "table"
        if op.startswith("VDUSE_") and op in self.terms:
            for section, e, _ in self.blanket:
                if e == err and self.terms[op][1] != section:
                    return True, "any-other-ioctl rule"
        return False, None


def is_op_name(x):
    return bool(re.fullmatch(r"VDUSE_[A-Z0-9_]+|[a-z_]+\(\)", x.strip()))


def norm_op(x):
    return x.strip()


class Abi:
    """errnos named in each sysfs attribute's ABI description."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.attrs = {}
        self.lines = {}
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            return
        cur = None
        for n, line in enumerate(text.split("\n"), 1):
            m = re.match(r"What:\s*(\S+)", line)
            if m:
                cur = m.group(1).rstrip("/").rsplit("/", 1)[-1]
                self.attrs.setdefault(cur, set())
                self.lines.setdefault(cur, n)
                continue
            if cur:
                self.attrs[cur].update(
                    e for e in re.findall(r"\bE[A-Z0-9]+\b", line)
                    if e in ERRNOS)


# ---------------------------------------------------------------- the tests

def strip_comments(src):
    """Blank out comments (newlines kept); string literals stay."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "/" and src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_literal(text, i):
    q = text[i]
    j = i + 1
    while j < len(text) and text[j] != q and text[j] != "\n":
        j += 2 if text[j] == "\\" else 1
    return j + 1


class Stmt:
    __slots__ = ("text", "start", "end", "func", "kind")

    def __init__(self, text, start, end, func, kind):
        self.text, self.start, self.end = text, start, end
        self.func, self.kind = func, kind


# "(struct foo)" just before a brace: a compound literal, not a block.
COMPOUND_CAST = re.compile(r"\(\s*(?:const\s+)?(?:struct|union)\s+\w+\s*"
                           r"(?:\[\s*\w*\s*\])?\s*\)$")


def split_statements(text):
    """Statements (kind 'stmt'), block openers ('open') and closers
    ('close'), with line numbers; func is the index of the enclosing
    top-level block, whose header is statement funcs[func]."""
    stmts, funcs = [], []
    buf_start = 0
    paren = brace = init = 0
    func = -1
    line = 1
    i, n = 0, len(text)
    line_at = [0] * (n + 1)
    for k, ch in enumerate(text):
        line_at[k] = line
        if ch == "\n":
            line += 1
    line_at[n] = line

    def emit(end, kind):
        nonlocal buf_start
        chunk = text[buf_start:end]
        s = chunk.strip()
        if s or kind != "stmt":
            off = buf_start + (len(chunk) - len(chunk.lstrip()))
            stmts.append(Stmt(s, line_at[min(off, n)],
                              line_at[max(end - 1, 0)], func, kind))
        buf_start = end

    at_line_start = True
    while i < n:
        ch = text[i]
        if ch == "#" and at_line_start:
            while i < n:
                j = text.find("\n", i)
                if j < 0:
                    i = n
                    break
                cont = text[i:j].rstrip().endswith("\\")
                i = j + 1
                if not cont:
                    break
            buf_start = i
            continue
        if ch == "\n":
            at_line_start = True
            i += 1
            continue
        if not ch.isspace():
            at_line_start = False
        if ch in "\"'":
            i = skip_literal(text, i)
            continue
        if ch == "(":
            paren += 1
        elif ch == ")":
            paren = max(paren - 1, 0)
        elif ch == "{":
            before = text[buf_start:i].rstrip()
            if paren or init or before.endswith("=") or \
                    COMPOUND_CAST.search(before):
                init += 1
            else:
                if brace == 0:
                    funcs.append(len(stmts))
                    func = len(funcs) - 1
                emit(i, "open")
                brace += 1
                buf_start = i + 1
        elif ch == "}":
            if init:
                init -= 1
            else:
                emit(i, "stmt")
                brace = max(brace - 1, 0)
                emit(i + 1, "close")
                buf_start = i + 1
                if brace == 0:
                    func = -1
        elif ch == ";" and not paren and not init:
            emit(i + 1, "stmt")
        elif ch == ";" and (paren or init) and \
                text[i + 1:i + 2] in ("\n", "") and \
                not re.match(r"\s*for\b", text[buf_start:i]):
            # Unbalanced code: resynchronise at the end of the line.
            paren = init = 0
            emit(i + 1, "stmt")
        i += 1
    return stmts, funcs


def split_args(s):
    """Top-level comma-separated arguments of s (inside the parens)."""
    args, depth, cur, i = [], 0, [], 0
    while i < len(s):
        c = s[i]
        if c in "\"'":
            j = skip_literal(s, i)
            cur.append(s[i:j])
            i = j
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    args.append("".join(cur).strip())
    return args


def call_args(text, open_idx):
    """The argument string of the call whose '(' is at open_idx."""
    depth, i = 0, open_idx
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = skip_literal(text, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[open_idx + 1:i]
        i += 1
    return None


CALL_RE = re.compile(r"(?<![\w.>])([A-Za-z_]\w*)\s*\(")
STR_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')


class Source:
    def __init__(self, path, defines):
        self.path = path
        self.name = os.path.basename(path)
        with open(path, encoding="utf-8", errors="replace") as f:
            self.raw = f.read()
        self.text = strip_comments(self.raw)
        self.defines = dict(defines)
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.+)$",
                             self.text, re.M):
            self.defines[m.group(1)] = m.group(2).strip()
        self.stmts, self.funcs = split_statements(self.text)
        self.is_test = self.name.endswith("_test.c") or bool(
            re.search(r"\b(?:TEST(?:_[A-Z_]+)?\s*\(|TEST_HARNESS_MAIN)",
                      self.text))

    def func_name(self, idx):
        if idx < 0:
            return None
        hdr = self.stmts[self.funcs[idx]].text
        m = re.search(r"(\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$", hdr)
        return m.group(1) if m else None

    def func_static(self, idx):
        return idx >= 0 and \
            re.match(r"\s*static\b", self.stmts[self.funcs[idx]].text)

    def resolve_string(self, expr, stmt_index, depth=0):
        """A string expression (literals, #defines, a local variable set
        from those) as a Python string, or None."""
        expr = expr.strip()
        if depth > 8:
            return None
        out = []
        rest = expr
        while rest:
            rest = rest.lstrip()
            if not rest:
                break
            m = STR_RE.match(rest)
            if m:
                out.append(m.group(1))
                rest = rest[m.end():]
                continue
            m = re.match(r"\w+", rest)
            if not m:
                return None
            name = m.group(0)
            rest = rest[m.end():]
            if name in self.defines:
                v = self.resolve_string(self.defines[name], stmt_index,
                                        depth + 1)
            else:
                v = self.resolve_variable(name, stmt_index, depth + 1)
            if v is None:
                return None
            out.append(v)
        return "".join(out) if out else None

    def resolve_variable(self, name, stmt_index, depth):
        func = self.stmts[stmt_index].func
        for k in range(stmt_index - 1, -1, -1):
            s = self.stmts[k]
            if s.func != func:
                break
            m = re.search(r"(?:^|[\s*,])" + re.escape(name) +
                          r"\s*(?:\[\s*\])?\s*=\s*(.+?);?$", s.text, re.S)
            if m and s.kind == "stmt":
                return self.resolve_string(m.group(1), k, depth)
            if re.search(r"(?:&\s*|\b(?:snprintf|sprintf|strcpy|strncpy|"
                         r"strcat|memcpy|memset|sscanf)\s*\(\s*)" +
                         re.escape(name) + r"\b", s.text):
                return None   # filled in some other way
        return None


class Op:
    """An errno-setting call found in a statement."""

    def __init__(self, name, kind, via=None):
        self.name = name      # VDUSE_X, read(), write(), open(),
        #                       "sysfs ATTR write", or None (not an op)
        self.kind = kind      # 'ioctl', 'call', 'sysfs', 'other'
        self.via = via        # the wrapper used, if any
        self.neg_errno = False


class Checker:
    def __init__(self, doc, abi, verbose):
        self.doc, self.abi, self.verbose = doc, abi, verbose
        self.wrappers = {}    # global: name -> Op
        self.findings = []
        self.matched = []
        self.skipped = []
        self.unchecked = []
        self.files_with_pairs = set()

    # -- classification of calls -------------------------------------

    def classify_call(self, src, name, args, stmt_index, local):
        """An Op for a call of name(args), or None if it sets no errno."""
        if name == "ioctl":
            a = split_args(args or "")
            req = a[1] if len(a) > 1 else ""
            if re.fullmatch(r"VDUSE_[A-Z0-9_]+", req):
                return Op(req, "ioctl")
            return Op(None, "other", "ioctl " + (req or "?"))
        if name in ("read", "write"):
            a = split_args(args or "")
            if a and VDUSE_FD_RE.match(a[0]):
                return Op(name + "()", "call")
            return Op(None, "other", f"{name}({a[0] if a else ''})")
        if name == "open":
            a = split_args(args or "")
            path = a[0] if a else ""
            if "/dev/vduse" in path or "VDUSE_CONTROL_PATH" in path:
                return Op("open()", "call")
            return Op(None, "other", "open")
        if name in SYSFS_WRITERS or name in SYSFS_READERS:
            a = split_args(args or "")
            path = src.resolve_string(a[0], stmt_index) if a else None
            if name in SYSFS_READERS:
                op = Op(None, "other", "sysfs read")
            elif path and path.startswith("/sys/class/vduse/"):
                op = Op("sysfs %s write" % path.rstrip("/").rsplit("/", 1)[-1],
                        "sysfs", name)
            else:
                op = Op(None, "other", "sysfs write of %s" % (path or a[0]))
            op.neg_errno = True
            return op
        if name in OPENERS:
            op = Op(OPENERS[name], "call", name)
            op.neg_errno = True
            return op
        w = local.get(name) or self.wrappers.get(name)
        if w is not None:
            op = Op(w.name, w.kind, name)
            op.neg_errno = w.neg_errno
            return op
        if name in ERRNO_CALLS:
            return Op(None, "other", name)
        return None

    def calls_in(self, src, text, stmt_index, local):
        """(ops, unknown): errno-setting calls in text, and whether it
        calls something not known to leave errno alone."""
        ops, unknown = [], False
        for m in CALL_RE.finditer(text):
            name = m.group(1)
            if name in KEYWORDS:
                continue
            args = call_args(text, m.end() - 1)
            op = self.classify_call(src, name, args, stmt_index, local)
            if op is not None:
                ops.append(op)
            elif not (name in HARMLESS_CALLS or ASSERT_RE.match(text, m.start())
                      or name.isupper()):
                unknown = True
        return ops, unknown

    # -- wrappers ------------------------------------------------------

    def find_wrappers(self, src, local, global_only):
        found = {}
        bodies = {}
        for s_i, s in enumerate(src.stmts):
            if s.func >= 0 and s.kind == "stmt":
                bodies.setdefault(s.func, []).append(s_i)
        for f, idxs in bodies.items():
            name = src.func_name(f)
            if not name or name.isupper() or name in OPENERS or \
                    name in SYSFS_WRITERS or name in SYSFS_READERS:
                continue
            if global_only and src.func_static(f):
                continue
            ops = []
            for k in idxs:
                ops += self.calls_in(src, src.stmts[k].text, k, local)[0]
            real = [o for o in ops if o.name]
            if len(ops) != 1 or len(real) != 1:
                continue
            w = Op(real[0].name, real[0].kind, name)
            w.neg_errno = any(re.search(r"-\s*errno\b", src.stmts[k].text)
                              for k in idxs)
            found[name] = w
        return found

    # -- assertions ----------------------------------------------------

    def record(self, src, line, op, err, how):
        where = f"{rel(src.path)}:{line}"
        self.files_with_pairs.add(src.name)
        if op.kind == "ioctl":
            ok, why = self.doc.allowed(op.name, err)
            if ok:
                self.matched.append((where, op.name, err, why))
                return
            d = self.doc
            if op.name not in d.terms:
                msg = (f"{where}: {op.name} returns {err} in this test but "
                       f"{d.name} does not document {op.name} at all")
            elif op.name not in d.tables:
                msg = (f"{where}: {op.name} returns {err} in this test but "
                       f"{d.name} has no errno table for it (see "
                       f"{d.name}:{d.terms[op.name][0]}")
                hint = d.prose.get((op.name, err))
                if hint:
                    msg += f"; the prose at {d.name}:{hint} mentions {err}"
                msg += ")"
            else:
                msg = (f"{where}: {op.name} returns {err} in this test but "
                       f"{d.name} does not document it")
                hint = d.prose.get((op.name, err))
                if hint:
                    msg += (f" (the prose at {d.name}:{hint} mentions it, "
                            f"the table at {d.name}:"
                            f"{d.table_line[op.name]} does not)")
            self.findings.append(msg)
            return
        if op.kind == "sysfs":
            attr = op.name.split()[1]
            if attr in self.doc.tables:
                docset, dname = self.doc.tables[attr], self.doc.name
            elif attr in self.abi.attrs:
                docset, dname = self.abi.attrs[attr], self.abi.name
            else:
                self.unchecked.append((where, op.name, err,
                                       "no table or ABI entry"))
                return
            if err in docset:
                self.matched.append((where, op.name, err, dname))
            else:
                self.findings.append(
                    f"{where}: {op.name} returns {err} in this test but "
                    f"{dname} does not document it")
            return
        # read(), write(), open(): checked only where there is a table.
        if op.name not in self.doc.tables:
            self.unchecked.append((where, op.name, err,
                                   f"{self.doc.name} has no table for it"))
            return
        if err in self.doc.tables[op.name]:
            self.matched.append((where, op.name, err, "table"))
        else:
            self.findings.append(
                f"{where}: {op.name} returns {err} in this test but "
                f"{self.doc.name} does not document it")

    def skip(self, src, line, err, why):
        self.skipped.append((f"{rel(src.path)}:{line}", err, why))

    def single_op(self, ops):
        """The one operation of ops, or (None, reason)."""
        if not ops:
            return None, "no operation"
        names = {o.name for o in ops}
        if len(ops) > 1 and (len(names) > 1 or None in names):
            return None, "several errno-setting calls: " + ", ".join(
                sorted(o.name or o.via or "?" for o in ops))
        if ops[0].name is None:
            return None, "not a VDUSE operation: " + (ops[0].via or "?")
        return ops[0], None

    def check_file(self, src, local):
        stmts = src.stmts
        for k, s in enumerate(stmts):
            if s.kind != "stmt":
                continue
            self.errno_form(src, k, s, local)
            self.negative_form(src, k, s, local)

    def errno_form(self, src, k, s, local):
        """EXPECT_EQ(EFOO, errno) after the operation."""
        for m in re.finditer(r"\b(?:EXPECT|ASSERT)_EQ\s*\(\s*"
                             r"(?:(E[A-Z0-9]+)\s*,\s*errno|errno\s*,\s*"
                             r"(E[A-Z0-9]+))\s*\)", s.text):
            err = m.group(1) or m.group(2)
            if err not in ERRNOS:
                continue
            line = s.start + s.text[:m.start()].count("\n")
            before = s.text[:m.start()]
            ops, _ = self.calls_in(src, before, k, local)
            if ops:
                self.record_single(src, line, ops, err)
                continue
            self.walk_back(src, k, line, err, local)

    def record_single(self, src, line, ops, err):
        """Record err for the one operation in ops, or say why not."""
        op, why = self.single_op(ops)
        if op:
            self.record(src, line, op, err, "errno")
        else:
            self.skip(src, line, err, why)

    def walk_back(self, src, k, line, err, local):
        stmts = src.stmts
        j = k - 1
        while j >= 0:
            p = stmts[j]
            if p.func != stmts[k].func or line - p.end > WINDOW:
                break
            if p.kind != "stmt":
                self.skip(src, line, err, "a block boundary before the "
                          "call it checks")
                return
            if re.search(r"\b(?:EXPECT|ASSERT)_EQ\s*\([^;]*\berrno\b",
                         p.text):
                self.skip(src, line, err, "follows another errno check")
                return
            ops, unknown = self.calls_in(src, p.text, j, local)
            if ops:
                self.record_single(src, line, ops, err)
                return
            if unknown:
                self.skip(src, line, err, "a call of unknown effect on "
                          "errno before it")
                return
            j -= 1
        self.skip(src, line, err, f"no operation within {WINDOW} lines")

    def negative_form(self, src, k, s, local):
        """EXPECT_EQ(-EFOO, wrapper(...)) and wrapper(...) == -EFOO."""
        text = s.text
        for m in re.finditer(r"(?<![\w)\]])-\s*(E[A-Z0-9]+)\b", text):
            err = m.group(1)
            if err not in ERRNOS:
                continue
            line = s.start + text[:m.start()].count("\n")
            a = re.search(r"\b(EXPECT|ASSERT)_(EQ|NE|[A-Z_]+)\s*\(", text)
            compared = re.search(r"[!=]=\s*-\s*" + err + r"\b|-\s*" + err +
                                 r"\s*[!=]=", text)
            in_assert = a and a.start() < m.start() and \
                call_args(text, a.end() - 1) is not None and \
                m.start() < a.end() + len(call_args(text, a.end() - 1)) + 1
            if in_assert and a.group(2) != "EQ":
                self.skip(src, line, err, f"{a.group(1)}_{a.group(2)}")
                continue
            if not in_assert and not compared:
                continue    # return -EFOO, net_fail(s, -EFOO), ...
            scope = text
            if in_assert:
                scope = call_args(text, a.end() - 1)
            ops, _ = self.calls_in(src, scope, k, local)
            var = None
            if not ops and in_assert:
                args = split_args(scope)
                other = [x for x in args if not re.fullmatch(
                    r"-\s*" + err, x)]
                if len(args) == 2 and len(other) == 1 and \
                        re.fullmatch(r"[\w.>-]+", other[0]):
                    var = other[0]
            elif not ops:
                v = re.search(r"(?<![\w.>])([A-Za-z_][\w.>-]*)\s*[!=]=\s*-\s*"
                              + err + r"\b", text) or \
                    re.search(r"-\s*" + err + r"\s*[!=]=\s*"
                              r"([A-Za-z_][\w.>-]*)(?![\w(])", text)
                var = v.group(1) if v else None
            if var:
                ops = self.assigned_from(src, k, var, local, line)
                if ops is None:
                    self.skip(src, line, err, "the value of %s comes "
                              "from out of sight" % var)
                    continue
            if not ops:
                self.skip(src, line, err, "no operation in the statement")
                continue
            op, why = self.single_op(ops)
            if not op:
                self.skip(src, line, err, why)
            elif not op.neg_errno:
                self.skip(src, line, err, "%s does not return -errno" %
                          (op.via or op.name))
            else:
                self.record(src, line, op, err, "-errno")

    def assigned_from(self, src, k, var, local, line):
        stmts = src.stmts
        j = k - 1
        while j >= 0:
            p = stmts[j]
            if p.func != stmts[k].func or line - p.end > WINDOW or \
                    p.kind != "stmt":
                return None
            m = re.search(r"(?<![\w.>])" + re.escape(var) +
                          r"\s*=(?!=)\s*(.+)$", p.text, re.S)
            if m:
                return self.calls_in(src, m.group(1), j, local)[0]
            if re.search(r"(?<![\w.>])" + re.escape(var) + r"\b", p.text):
                return None
            j -= 1
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--doc", default=DEFAULT_DOC,
                    help="the rst with the errno tables (default: %(default)s)")
    ap.add_argument("--abi", default=DEFAULT_ABI,
                    help="the sysfs ABI description (default: %(default)s)")
    ap.add_argument("--tests", default=DEFAULT_TESTS,
                    help="the selftests directory (default: %(default)s)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="list every pair checked and every case skipped")
    opts = ap.parse_args()

    try:
        doc = Doc(opts.doc)
    except OSError as e:
        print(f"errno-check: {e}", file=sys.stderr)
        return 2
    abi = Abi(opts.abi)
    if not doc.tables:
        print(f"errno-check: no errno tables found in {opts.doc}")
        return 1

    try:
        names = sorted(f for f in os.listdir(opts.tests)
                       if f.endswith(".c") and f not in IGNORED_FILES)
    except OSError as e:
        print(f"errno-check: {e}", file=sys.stderr)
        return 2
    defines = {}
    for h in sorted(os.listdir(opts.tests)):
        if h.endswith(".h"):
            try:
                with open(os.path.join(opts.tests, h), encoding="utf-8",
                          errors="replace") as f:
                    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)"
                                         r"[ \t]+(.+)$",
                                         strip_comments(f.read()), re.M):
                        defines[m.group(1)] = m.group(2).strip()
            except OSError:
                pass

    chk = Checker(doc, abi, opts.verbose)
    sources = []
    for name in names:
        path = os.path.join(opts.tests, name)
        try:
            sources.append(Source(path, defines))
        except Exception as e:  # keep going: skip what cannot be read
            print(f"errno-check: {rel(path)}: skipped ({e})", file=sys.stderr)
    # Wrappers of the helper files first (twice: wrappers of wrappers).
    for _ in range(2):
        for src in sources:
            if not src.is_test:
                try:
                    chk.wrappers.update(chk.find_wrappers(src, {}, True))
                except Exception as e:
                    print(f"errno-check: {rel(src.path)}: wrappers skipped "
                          f"({e})", file=sys.stderr)
    tests = [s for s in sources if s.is_test]
    for src in tests:
        try:
            local = {}
            for _ in range(2):
                local.update(chk.find_wrappers(src, local, False))
            chk.check_file(src, local)
        except Exception as e:
            print(f"errno-check: {rel(src.path)}: skipped ({e})",
                  file=sys.stderr)

    if opts.verbose:
        for where, op, err, why in chk.matched:
            print(f"  ok       {where}: {op} {err} ({why})")
        for where, op, err, why in chk.unchecked:
            print(f"  unchecked {where}: {op} {err}: {why}")
        for where, err, why in chk.skipped:
            print(f"  skipped  {where}: {err}: {why}")
    for f in chk.findings:
        print(f)

    total = len(chk.matched) + len(chk.findings)
    ntests = len(tests)
    extra = ""
    if chk.skipped or chk.unchecked:
        extra = " (%d skipped, %d with no table; -v lists them)" % (
            len(chk.skipped), len(chk.unchecked))
    if total == 0:
        print("errno-check: no asserted errnos found in %s: the parser "
              "needs a look" % rel(opts.tests))
        return 1
    if chk.findings:
        print("errno-check: %d of %d asserted errnos in %d tests are not "
              "documented in %s%s" % (len(chk.findings), total, ntests,
                                      doc.name, extra))
        return 1
    print("errno-check: %d asserted errnos in %d tests match %s%s" % (
        total, ntests, doc.name, extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""run.py and mnistlib/ run on Windows too: no POSIX-only call on any code path, unless guarded.

The scan reads the source (AST); it runs everywhere. A call is guarded when an enclosing `if`, `and`,
`or` or conditional expression tests os.name, sys.platform, platform.system() or hasattr(os, ...),
or a `try` around it catches ImportError / AttributeError / OSError.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "run.py", *sorted((ROOT / "mnistlib").glob("*.py"))]

POSIX_ONLY_CALLS = {f"os.{name}" for name in (
    "fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "getgroups", "setuid", "setgid", "setsid",
    "getpgid", "killpg", "chown", "lchown", "mkfifo", "getloadavg", "sync", "nice", "wait3", "wait4")}
POSIX_ONLY_CALLS |= {"signal.alarm", "signal.setitimer", "signal.pause", "os.uname"}
POSIX_ONLY_SIGNALS = {f"signal.{name}" for name in (
    "SIGKILL", "SIGALRM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGPIPE", "SIGSTOP",
    "SIGCONT", "SIGTSTP")}
POSIX_ONLY_MODULES = {"pwd", "grp", "fcntl", "termios", "tty", "pty", "resource", "posix", "crypt"}
GUARD_WORDS = ("os.name", "sys.platform", "platform.system", "hasattr(os", "hasattr(signal")
GUARD_ERRORS = {"ImportError", "ModuleNotFoundError", "AttributeError", "OSError", "Exception"}
TEXT_IO_CALLS = {"read_text", "write_text"}


def dotted(node):
    """'os.getuid' for the expression os.getuid; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def is_guarded(node, parents, source):
    child = node
    while child in parents:
        parent = parents[child]
        tests = []
        if isinstance(parent, (ast.If, ast.IfExp, ast.While)):
            tests = [parent.test]
        elif isinstance(parent, ast.BoolOp):  # `hasattr(os, "geteuid") and os.geteuid() == 0`
            tests = parent.values[: parent.values.index(child)] if child in parent.values else []
        elif isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                names = {dotted(t) for t in ([handler.type] if not isinstance(handler.type, ast.Tuple)
                                              else handler.type.elts)} if handler.type else {"Exception"}
                if names & GUARD_ERRORS:
                    return True
        if any(word in ast.get_source_segment(source, test).replace(" ", "") for test in tests
               for word in GUARD_WORDS):
            return True
        child = parent
    return False


def findings(path):
    """['file:line: what'] for every unguarded POSIX-only use in one source file."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    out = []

    def report(node, what):
        if not is_guarded(node, parents, source):
            out.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in POSIX_ONLY_MODULES:
                    report(node, f"imports the POSIX-only module {name}")
        elif isinstance(node, ast.Attribute) and dotted(node) in POSIX_ONLY_SIGNALS:
            report(node, f"{dotted(node)} does not exist on Windows")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith(("/bin/", "/usr/bin/", "/usr/local/bin/")):
                report(node, f"hard-coded POSIX path {node.value!r}")
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            keywords = {k.arg: k.value for k in node.keywords}
            if name in POSIX_ONLY_CALLS:
                report(node, f"{name}() does not exist on Windows")
            shell = keywords.get("shell")
            if isinstance(shell, ast.Constant) and shell.value is True:
                report(node, "shell=True (a shell string differs between cmd.exe and sh)")
            if name == "open" or (name or "").endswith(".open") or (
                    isinstance(node.func, ast.Attribute) and node.func.attr == "open"):
                mode = keywords.get("mode", node.args[1] if len(node.args) > 1 else None)
                if mode is None or (isinstance(mode, ast.Constant) and "b" not in str(mode.value)):
                    if "encoding" not in keywords and not is_binary_open(node, name):
                        report(node, "opens a text file without encoding= (Windows defaults to cp1252)")
            if isinstance(node.func, ast.Attribute) and node.func.attr in TEXT_IO_CALLS:
                if "encoding" not in keywords and len(node.args) < 2 - (node.func.attr == "read_text"):
                    report(node, f".{node.func.attr}() without encoding= (Windows defaults to cp1252)")
            text = keywords.get("text", keywords.get("universal_newlines"))
            if isinstance(text, ast.Constant) and text.value is True and "encoding" not in keywords:
                report(node, "a text-mode subprocess without encoding= (Windows defaults to cp1252)")
    return out


def is_binary_open(node, name):
    """gzip.open / Image.open / tarfile.open / zipfile... default to binary or are not text files."""
    return name is not None and name.split(".")[0] in {"gzip", "bz2", "lzma", "Image", "tarfile", "zipfile",
                                                       "webbrowser", "np", "numpy"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_posix_only_code(path):
    assert findings(path) == []


def test_the_scan_finds_what_it_looks_for(tmp_path, monkeypatch):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os, signal, subprocess\n"
        "import fcntl\n"
        "pid = os.fork()\n"
        "root = os.geteuid() == 0\n"
        "signal.signal(signal.SIGALRM, print)\n"
        "subprocess.run('ls', shell=True)\n"
        "subprocess.run(['/bin/ls'])\n"
        "open('notes.txt').read()\n"
        "subprocess.run(['x'], text=True)\n"
        "from pathlib import Path\n"
        "Path('a').write_text('x')\n"
        "ok = hasattr(os, 'geteuid') and os.geteuid() == 0\n"
        "if os.name == 'posix':\n"
        "    os.fork()\n"
        "try:\n"
        "    import pwd\n"
        "except ImportError:\n"
        "    pwd = None\n"
        "open('data.bin', 'rb').read()\n"
        "open('a.txt', encoding='utf-8').read()\n"
        "Path('a').read_bytes()\n",
        encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    lines = sorted(int(f.split(":")[1]) for f in findings(bad))
    assert lines == [2, 3, 4, 5, 6, 7, 8, 9, 11]

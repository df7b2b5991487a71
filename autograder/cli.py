"""The ``autograder`` command: grade, check, verify, release, list."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder import __version__
from autograder.grade import grade
from autograder.lab import Course, LabError
from autograder.release import release, stale
from autograder.report import FORMATS, summary_table, write
from autograder.result import TestResult
from autograder.runner import collect
from autograder.sandbox.cleanup import signals_clean_up
from autograder.verify import verify

EPILOG = """examples:
  autograder check softmax_regression                 run the public tests on labs/softmax_regression
  autograder grade sub.zip --lab mlp_numpy            grade a submission (folder, .py files, .zip, .ipynb)
  autograder grade hw/ --lab linear_regression --format gradescope --out results.json
  autograder verify --variants                        reference full marks, starter ~0, mutants lose points
  autograder release --check                          fail if labs/ is out of date with solutions/
"""

err = Console(stderr=True, highlight=False)


def _progress(enabled: bool):
    """A callback that prints each scored line as it finishes (on a terminal only)."""
    marks = {"passed": "[green]✓[/]", "partial": "[yellow]~[/]", "failed": "[red]✗[/]"}

    def show(line: TestResult) -> None:
        err.print(f"  {marks[line.status]} {line.name} [dim]{line.score:g}/{line.max_score:g}[/]")

    return show if enabled else None


def cmd_grade(args: argparse.Namespace, course: Course) -> int:
    submission = args.paths[0] if len(args.paths) == 1 else args.paths
    return _grade_and_report(course, args.lab, submission, "grade", args)


def cmd_check(args: argparse.Namespace, course: Course) -> int:
    path = args.path or course.root / "labs" / args.lab
    return _grade_and_report(course, args.lab, path, "check", args)


def _grade_and_report(course: Course, lab: str, path: Path | list[Path], mode: str, args: argparse.Namespace) -> int:
    course.lab(lab)  # an unknown lab is a usage error, before any work
    show = _progress(err.is_terminal and not args.quiet)
    if show:
        err.print(f"[bold]{'Checking' if mode == 'check' else 'Grading'}[/] {path} for lab [bold]{lab}[/]")
    result = grade(course, lab, path, mode=mode, data_dir=args.data_dir, on_result=show)
    write(result, args.format, args.out)
    if args.out and not args.quiet:
        err.print(f"{result.score:g}/{result.max_score:g} points; report written to {args.out}")
    if args.fail_under is not None and 100 * result.score < args.fail_under * result.max_score:
        return 1
    return 0


def cmd_verify(args: argparse.Namespace, course: Course) -> int:
    """Grade the reference of each lab (and with --variants the starter, alternatives and mutants)."""
    labs = args.labs or course.lab_ids()
    results, problems = verify(course, labs, variants=args.variants, on_grade=lambda label: err.print(f"  grading {label}"))
    print(summary_table(results), end="")
    for problem in problems:
        err.print(f"[red]✗[/] {problem}")
    if not problems:
        err.print(f"[green]✓[/] every expectation holds ({len(results)} gradings)")
    return 1 if problems else 0


def cmd_release(args: argparse.Namespace, course: Course) -> int:
    labs = args.labs or [lab for lab in course.lab_ids() if course.lab(lab).has_solution]
    if args.check:
        problems = stale(course, labs)
        for problem in problems:
            err.print(f"[red]✗[/] {problem}")
        if problems:
            err.print("labs/ is out of date: run 'autograder release' (or 'make labs') and commit the result")
            return 1
        err.print(f"[green]✓[/] labs/ is in sync with solutions/ ({', '.join(labs)})")
        return 0
    written = release(course, labs)
    for path in written:
        err.print(f"  wrote {path.relative_to(course.root)}")
    err.print(f"released {', '.join(labs)} ({len(written)} files changed)")
    return 0


def cmd_list(args: argparse.Namespace, course: Course) -> int:
    table = Table("lab", "title", "files you edit", "tests", "solution here")
    table.columns[0].no_wrap = True
    for lab_id in course.lab_ids():
        lab = course.lab(lab_id)
        tests = collect(lab, public_only=not lab.has_solution)
        table.add_row(lab_id, lab.title, ", ".join(lab.files), str(len(tests)), "yes" if lab.has_solution else "no")
    Console().print(table)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="autograder", description="Grade PyTorch/NumPy labs in a sandbox.",
                                  epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"autograder {__version__}")
    top.add_argument("--root", type=Path, help="the course folder (default: found from the current folder)")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def reporting(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
        p.add_argument("--out", type=Path, help="write the report to this file instead of the terminal")
        p.add_argument("--data-dir", type=Path, help="real datasets instead of the embedded defaults")
        p.add_argument("--fail-under", type=float, metavar="PERCENT",
                       help="exit with status 1 when the score is below PERCENT of the maximum (for CI)")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")

    p = sub.add_parser("grade", help="grade a submission with every test (instructors, CI)")
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH",
                   help="a folder, a .zip, an .ipynb, or one or more .py files")
    p.add_argument("--lab", required=True, help="the lab id (see 'autograder list')")
    reporting(p)
    p.set_defaults(run=cmd_grade)

    p = sub.add_parser("check", help="run the public tests on your work (students)")
    p.add_argument("lab", help="the lab id (see 'autograder list')")
    p.add_argument("path", type=Path, nargs="?", help="your work (default: labs/LAB)")
    reporting(p)
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("verify", help="prove each lab's tests: reference full marks, mutants lose points")
    p.add_argument("labs", nargs="*", help="lab ids (default: all)")
    p.add_argument("--variants", action="store_true", help="also grade the starter, alternatives and mutants")
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser("release", help="generate labs/ from solutions/ (starters, handouts, public tests)")
    p.add_argument("labs", nargs="*", help="lab ids (default: every lab with a solution)")
    p.add_argument("--check", action="store_true", help="exit 1 if labs/ is out of date; change nothing")
    p.set_defaults(run=cmd_release)

    p = sub.add_parser("list", help="the labs of this course")
    p.set_defaults(run=cmd_list)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with signals_clean_up():  # SIGTERM/SIGINT: kill every sandbox, remove every temporary folder, exit 128+signal
            course = Course(args.root.resolve()) if args.root else Course.find()
            return args.run(args, course)
    except LabError as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())

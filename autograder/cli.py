"""The ``autograder`` command: grade, check, verify, lint, release, list."""
from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder import __version__
from autograder.lab import Course, LabError, UsageError
from autograder.report import FORMATS, SUFFIX, summary_table, write
from autograder.result import GradeResult, TestResult
from autograder.sandbox.pool import start_shared
from autograder.sandbox.cleanup import signals_clean_up

EPILOG = """examples:
  autograder check softmax_regression                 run the public tests on labs/softmax_regression
  autograder grade sub.zip --lab mlp_numpy            grade a submission (folder, .py files, .zip, .ipynb)
  autograder grade hw/ --lab linear_regression --format gradescope --out results.json
  autograder verify --variants                        reference full marks, starter ~0, mutants lose points
  autograder lint                                     check every lab's configuration, tests and mutants
  autograder release --check                          fail if labs/ is out of date with solutions/
  autograder release --bundle mlp_numpy               the student bundle (a zip, also a GitHub Classroom template)
  autograder export gradescope mlp_numpy              the Gradescope autograder zip
  autograder batch submissions/ --lab mlp_numpy -j 2  grade a class into ./gradebook.sqlite (resumable)
  autograder gradebook export --lab mlp_numpy --csv grades.csv
  autograder report mlp_numpy --html class.html --csv class-csv/   the class report (instructors only)
  autograder leaderboard seq2seq_attention --pseudonyms            ranked, once the lab's reveal time has passed

exit status of grade and check: 0 a result was produced; 1 the score is below --fail-under; 2 a usage error
(unknown lab, bad option, a --data-dir the lab cannot use); 3 a test failed through a fault of the lab or of
the grader (excluded from the score); 4 nothing gradable in the submission (the report says why).
leaderboard exits 1 before the lab's reveal time (unless --instructor).
"""

err = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_BELOW, EXIT_USAGE, EXIT_GRADER_ERROR, EXIT_UNUSABLE = 1, 2, 3, 4
EXIT_REFUSED = 1  # leaderboard: not revealed yet


def percent(text: str) -> float:
    """A --fail-under value: a number from 0 to 100."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (give a percentage from 0 to 100)") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage from 0 to 100")
    return value


def say_problem(problem: str, label: str = "✗") -> None:
    """One problem on stderr, the text printed as written (no rich markup: configs contain [brackets])."""
    err.print(Text.assemble((f"{label} ", "bold red"), problem))


def _progress(enabled: bool):
    """A callback that prints each scored line as it finishes (on a terminal only)."""
    marks = {"passed": "[green]✓[/]", "partial": "[yellow]~[/]", "failed": "[red]✗[/]", "error": "[magenta]![/]"}

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
    sandbox_preload = course.lab(lab).sandbox_preload  # an unknown lab is a usage error, before any work
    if args.out is not None and args.out.is_dir():
        raise UsageError(f"--out {args.out} is a folder: give the path of the report file to write")
    start_shared(sandbox_preload)  # the warm sandbox imports its libraries while the pipeline loads
    from autograder.grade import grade

    show = _progress(err.is_terminal and not args.quiet)
    if show:
        err.print(f"[bold]{'Checking' if mode == 'check' else 'Grading'}[/] {path} for lab [bold]{lab}[/]")
    result = grade(course, lab, path, mode=mode, data_dir=args.data_dir, on_result=show)
    write(result, args.format, args.out, config=course.lab(lab).config)
    if args.out and not args.quiet:
        err.print(f"{result.score:g}/{result.max_score:g} points; report written to {args.out}")
    if not result.gradable:
        reason = result.messages[0] if result.messages else "it holds none of the lab's files"
        say_problem(f"nothing to grade in {path}: {reason}", "error:")
        return EXIT_UNUSABLE
    if result.grader_errors:
        err.print(f"[red]grader error:[/] {len(result.grader_errors)} test(s) failed through a fault of the lab or "
                  "the grader, not the submission; they are excluded from the score. Fix the lab (see "
                  "'autograder lint " + lab + "' and the lines marked '!'):")
        for line in result.grader_errors:
            err.print(f"  {line.id}: {(line.feedback or [''])[-1][:300]}", markup=False, highlight=False)
        return EXIT_GRADER_ERROR
    if args.fail_under is not None and 100 * result.score < args.fail_under * result.max_score:
        return 1
    return 0


def cmd_lint(args: argparse.Namespace, course: Course) -> int:
    """Check each lab's configuration, markers, tests and variants; one line per problem."""
    from autograder.lint import lint

    labs = args.labs or course.lab_ids()
    problems = [problem for lab in labs for problem in lint(course, lab)]
    for problem in problems:
        say_problem(problem)
    if problems:
        return 1
    err.print(f"[green]✓[/] no problems in {', '.join(labs)}")
    return 0


def cmd_verify(args: argparse.Namespace, course: Course) -> int:
    """Grade the reference of each lab (and with --variants the starter, alternatives and mutants)."""
    from autograder.batch import warm_workers
    from autograder.verify import verify

    labs = args.labs or course.lab_ids()
    with warm_workers(args.jobs) as pool:
        results, problems = verify(course, labs, variants=args.variants, quick=args.quick, pool=pool,
                                   on_grade=lambda label: err.print(f"  {'graded' if pool else 'grading'} {label}"))
    print(summary_table(results), end="")
    for problem in problems:
        say_problem(problem)
    if not problems:
        err.print(f"[green]✓[/] every expectation holds ({len(results)} gradings)")
    return 1 if problems else 0


def cmd_release(args: argparse.Namespace, course: Course) -> int:
    from autograder.lint import lint
    from autograder.release import release, stale

    if args.bundle:
        return _bundle(args, course)
    if args.out:
        raise UsageError("--out goes with --bundle LAB (release writes labs/ in place)")
    labs = args.labs or [lab for lab in course.lab_ids() if course.lab(lab).has_solution]
    problems = [problem for lab in labs for problem in lint(course, lab)]
    if problems:
        for problem in problems:
            say_problem(problem)
        err.print("nothing released: fix the problems above first")
        return 1
    if args.check:
        problems = stale(course, labs)
        for problem in problems:
            say_problem(problem)
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


def _bundle(args: argparse.Namespace, course: Course) -> int:
    """``release --bundle LAB``: the student bundle (a zip) of one released lab."""
    from autograder.student_bundle import bundle

    if args.labs or args.check:
        raise UsageError("--bundle takes one lab and no other lab ids or --check: "
                         "autograder release --bundle LAB [--out PATH]")
    out = _zip_out(args.out, f"{args.bundle}-student.zip")
    bundle(course, args.bundle, out)
    err.print(f"student bundle of {args.bundle} written to {out} (no solution, hidden test, mutant or held-out label)")
    return 0


def _zip_out(out: Path | None, default: str) -> Path:
    """Where to write a zip: ``out`` (a file, or a folder to write ``default`` into), else ``./default``."""
    if out is None:
        return Path(default)
    return out / default if out.is_dir() else out


def cmd_export(args: argparse.Namespace, course: Course) -> int:
    """``export gradescope LAB``: the Gradescope autograder zip of one lab."""
    from autograder.gradescope_export import export_gradescope

    out = _zip_out(args.out, f"{args.lab}-gradescope.zip")
    export_gradescope(course, args.lab, out)
    err.print(f"Gradescope autograder of {args.lab} written to {out}: upload it as the assignment's autograder")
    return 0


def cmd_list(args: argparse.Namespace, course: Course) -> int:
    from autograder.runner import collect

    table = Table("lab", "title", "files you edit", "tests", "solution here")
    table.columns[0].no_wrap = True
    for lab_id in course.lab_ids():
        lab = course.lab(lab_id)
        tests = collect(lab, public_only=not lab.has_solution)
        table.add_row(lab_id, lab.title, ", ".join(lab.files), str(len(tests)), "yes" if lab.has_solution else "no")
    Console().print(table)
    return 0


def cmd_batch(args: argparse.Namespace, course: Course) -> int:
    """Grade a class's folder of submissions into the gradebook, with a progress bar and a summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from autograder.batch import run_batch
    from autograder.gradebook import Gradebook
    from autograder.submissions import discover

    config = course.lab(args.lab).config
    if not args.submissions.is_dir():
        raise UsageError(f"{args.submissions} is not a folder of submissions")
    try:
        submissions, notes = discover(args.submissions)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for note in notes:
        say_problem(note, "skipped:")
    if args.reports and args.reports.exists() and not args.reports.is_dir():
        raise UsageError(f"--reports {args.reports} is not a folder")
    progress = Progress(TextColumn("[bold]grading[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                        TimeRemainingColumn(), console=err, disable=args.quiet)
    with progress, Gradebook(args.gradebook) as gradebook:
        task = progress.add_task("", total=len(submissions))

        def planned(to_grade: int, skipped: int) -> None:
            progress.update(task, total=to_grade, description=f"({skipped} already graded)" if skipped else "")

        def graded(job, result: dict) -> None:
            progress.advance(task)
            if args.reports:
                write(GradeResult.from_dict(result), args.format, args.reports / f"{_safe(job.submission.student)}"
                      f".{SUFFIX[args.format]}", config=config)

        summary = run_batch(course, args.lab, submissions, gradebook, workers=args.jobs, force=args.force,
                            data_dir=args.data_dir, dask=args.dask, on_result=graded, on_plan=planned)
        Console().print(batch_table(args.lab, summary, gradebook.count(args.lab)))
    return 0


def _safe(student: str) -> str:
    """A student id as a file name."""
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in student) or "unnamed"


def batch_table(lab: str, summary, rows_in_gradebook: int) -> Table:
    """The end-of-batch summary: how many were graded and skipped, the scores, and what needs a look."""
    scores = sorted(100 * r["score"] / r["max_score"] for r in summary.graded if r["max_score"])
    table = Table("", "", title=f"Batch of lab {lab}", show_header=False)
    table.add_row("graded now", str(len(summary.graded)))
    table.add_row("already graded (skipped)", str(len(summary.skipped)))
    if scores:
        table.add_row("score, % of max (min / median / max)",
                      f"{scores[0]:.0f} / {scores[len(scores) // 2]:.0f} / {scores[-1]:.0f}")
        table.add_row("full marks", str(sum(score >= 100 for score in scores)))
    unusable = [r["submission"] for r in summary.graded if not r.get("gradable", True)]
    errors = [r["submission"] for r in summary.graded if any(t.get("grader_error") for t in r["tests"])]
    table.add_row("nothing gradable", ", ".join(unusable[:10]) + (" ..." if len(unusable) > 10 else "") or "0")
    table.add_row("grader errors (not counted)", ", ".join(errors[:10]) + (" ..." if len(errors) > 10 else "") or "0")
    if summary.graded:
        table.add_row("seconds per submission", f"{summary.seconds / len(summary.graded):.2f}")
    table.add_row("rows for this lab in the gradebook", str(rows_in_gradebook))
    return table


def _need_gradebook(path: Path) -> None:
    """A usage error unless ``path`` is a gradebook file (opening one would create it)."""
    if not path.is_file():
        raise UsageError(f"no gradebook at {path} (run 'autograder batch' first, or give --gradebook)")


def cmd_gradebook_export(args: argparse.Namespace, course: Course) -> int:
    """Write the gradebook of a lab as CSV (one row per student) and/or JSON, and per-student reports."""
    from autograder.gradebook import Gradebook

    _need_gradebook(args.gradebook)
    if not (args.csv or args.json or args.reports):
        raise UsageError("nothing to export: give --csv, --json and/or --reports")
    config = course.lab(args.lab).config if args.reports else None
    with Gradebook(args.gradebook) as gradebook:
        if args.csv:
            err.print(f"{gradebook.export_csv(args.csv, args.lab)} students written to {args.csv}")
        if args.json:
            err.print(f"{gradebook.export_json(args.json, args.lab)} students written to {args.json}")
        if args.reports:
            rows = gradebook.latest(args.lab)
            for row in rows:
                write(GradeResult.from_dict(row["result"]), args.format,
                      args.reports / f"{_safe(row['student'])}.{SUFFIX[args.format]}", config=config)
            err.print(f"{len(rows)} {args.format} reports written to {args.reports}")
    return 0


def cmd_report(args: argparse.Namespace, course: Course) -> int:
    """The class report of a lab from the gradebook: an HTML page and/or the same figures as CSV files."""
    from autograder.analytics import class_report, summary, write_csv
    from autograder.gradebook import Gradebook
    from autograder.report import write_text
    from autograder.report.html import render_class_html

    lab = course.lab(args.lab)
    if not (args.html or args.csv):
        raise UsageError("nothing to write: give --html OUT and/or --csv DIR")
    if args.html and args.html.is_dir():
        raise UsageError(f"--html {args.html} is a folder: give the path of the page to write")
    if args.csv and args.csv.exists() and not args.csv.is_dir():
        raise UsageError(f"--csv {args.csv} is a file: give a folder for the CSV files")
    _need_gradebook(args.gradebook)
    with Gradebook(args.gradebook) as gradebook:
        rows = gradebook.latest(args.lab)
    if not rows:
        raise UsageError(f"{args.gradebook} holds no grading of lab {args.lab} "
                         f"(grade the class with 'autograder batch SUBMISSIONS --lab {args.lab}')")
    report = class_report(lab, rows)
    if args.html:
        write_text(args.html, render_class_html(report, summary(report)))
        err.print(f"class report of {len(rows)} students written to {args.html}")
    if args.csv:
        written = write_csv(report, args.csv)
        err.print(f"{len(written)} CSV files written to {args.csv}: {', '.join(path.name for path in written)}")
    return 0


def cmd_leaderboard(args: argparse.Namespace, course: Course) -> int:
    """The lab's leaderboard from the gradebook, once revealed (or for instructors), with pseudonyms on request."""
    from datetime import datetime, timezone

    from autograder.gradebook import Gradebook
    from autograder.leaderboard import names, ranking, revealed

    board = course.lab(args.lab).config.leaderboard
    if board is None:
        raise UsageError(f"lab {args.lab} has no leaderboard (a lab declares one with [leaderboard] in its lab.toml)")
    _need_gradebook(args.gradebook)
    when = board.reveal.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if not revealed(board) and not args.instructor:
        days = (board.reveal - datetime.now(timezone.utc)).total_seconds() / 86400
        say_problem(f"the leaderboard of {args.lab} is hidden until {when} ({days:.1f} days from now); "
                    "instructors may look with --instructor", "refused:")
        return EXIT_REFUSED
    with Gradebook(args.gradebook) as gradebook:
        rows = gradebook.latest(args.lab)
        key = gradebook.secret() if args.pseudonyms else b""
    shown = names(key, [row["student"] for row in rows]) if args.pseudonyms else {}
    entries = ranking(board, rows, lambda student: shown.get(student, student))
    better = "higher" if board.higher_is_better else "lower"
    table = Table("rank", "pseudonym" if args.pseudonyms else "student", f"{board.metric} ({better} is better)",
                  "attempt", title=f"Leaderboard of {args.lab}")
    for entry in entries:
        table.add_row(str(entry.rank) if entry.rank else "-", Text(entry.name),
                      f"{entry.value:.4g}" if entry.value is not None else "not measured", str(entry.attempt))
    Console().print(table)
    if not revealed(board):
        err.print(f"instructor view: students may see this leaderboard from {when}")
    return 0


def jobs_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="parallel workers (default: 1)")


def per_student_reports(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reports", type=Path, metavar="DIR", help="write one report per student into DIR")
    p.add_argument("--format", choices=FORMATS, default="gradescope", help="format of --reports (default: gradescope)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="autograder", description="Grade PyTorch/NumPy labs in a sandbox.",
                                  epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"autograder {__version__}")
    top.add_argument("--root", type=Path, help="the course folder (default: found from the current folder)")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def gradebook_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--gradebook", type=Path, default=Path("gradebook.sqlite"), help="default: ./gradebook.sqlite")

    def reporting(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
        p.add_argument("--out", type=Path, help="write the report to this file instead of the terminal")
        p.add_argument("--data-dir", type=Path, help="real datasets instead of the embedded defaults")
        p.add_argument("--fail-under", type=percent, metavar="PERCENT",
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
    p.add_argument("--quick", action="store_true", help="only the reference runs the slow (training) tests; the "
                   "others skip them unless a mutant must fail one")
    jobs_option(p)
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser("release", help="generate labs/ from solutions/ (starters, handouts, public tests)")
    p.add_argument("labs", nargs="*", help="lab ids (default: every lab with a solution)")
    p.add_argument("--check", action="store_true", help="exit 1 if labs/ is out of date; change nothing")
    p.add_argument("--bundle", metavar="LAB", help="instead, write the student bundle of LAB (a zip: starter, "
                   "notebook, handout, public tests, a one-command check, a GitHub Classroom workflow)")
    p.add_argument("--out", type=Path, help="with --bundle: the zip to write (default: ./LAB-student.zip)")
    p.set_defaults(run=cmd_release)

    p = sub.add_parser("export", help="a lab packaged for a course platform (instructors)")
    platforms = p.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    p = platforms.add_parser("gradescope", help="the Gradescope autograder zip of a lab",
                             description="Write the autograder zip of LAB for a Gradescope programming assignment: "
                             "setup.sh (Python 3.11+, CPU torch, the kit), run_autograder (grades "
                             "/autograder/submission into /autograder/results/results.json), the kit, and this lab's "
                             "solution, tests and data loaders only.")
    p.add_argument("lab", help="the lab id")
    p.add_argument("--out", type=Path, help="the zip to write (default: ./LAB-gradescope.zip)")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("batch", help="grade a class's folder of submissions into the gradebook (instructors)",
                       description="Grade every submission in SUBMISSIONS (one entry per student; or a Gradescope "
                       "export with submission_metadata.yml; or LMS downloads named <name>_<id>_...; or a GitHub "
                       "Classroom clone folder) into a resumable SQLite gradebook. Submissions already graded by "
                       "the same lab and grader are skipped.")
    p.add_argument("submissions", type=Path, metavar="SUBMISSIONS", help="the folder of submissions")
    p.add_argument("--lab", required=True, help="the lab id (see 'autograder list')")
    jobs_option(p)
    p.add_argument("--gradebook", type=Path, default=Path("gradebook.sqlite"),
                   help="the gradebook file (default: ./gradebook.sqlite)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded (a new attempt each)")
    p.add_argument("--data-dir", type=Path, help="real datasets instead of the embedded defaults")
    p.add_argument("--dask", metavar="ADDRESS", help="send the jobs to a Dask scheduler, e.g. tcp://host:8786")
    per_student_reports(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_batch)

    p = sub.add_parser("gradebook", help="the gradebook: export it as CSV, JSON or per-student reports")
    gradebook_verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = gradebook_verbs.add_parser("export", help="write a lab's gradebook (each student's latest attempt)")
    p.add_argument("--lab", required=True, help="the lab id")
    gradebook_option(p)
    p.add_argument("--csv", type=Path, help="one row per student: a column per test, the total")
    p.add_argument("--json", type=Path, help="each student's latest attempt with its full result")
    per_student_reports(p)
    p.set_defaults(run=cmd_gradebook_export)

    p = sub.add_parser("report", help="a class's report from the gradebook: an HTML page and CSV (instructors)",
                       description="How the class did on LAB (each student's latest attempt in the gradebook): score "
                       "histogram, pass rate per test, the most frequent named mistakes with an example of their "
                       "feedback, run times, and the submissions that hit limits, used forbidden APIs, met grader "
                       "errors or held nothing gradable. The page names hidden tests: it is for instructors.")
    p.add_argument("lab", help="the lab id")
    p.add_argument("--html", type=Path, metavar="OUT", help="write the report as one self-contained HTML page")
    p.add_argument("--csv", type=Path, metavar="DIR", help="write the same figures and tables as CSV files into DIR")
    gradebook_option(p)
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("leaderboard", help="a lab's leaderboard from the gradebook, once its reveal time has passed",
                       description="Rank each student's latest attempt by the lab's [leaderboard] metric. Refused "
                       "before the lab's reveal time, except with --instructor.")
    p.add_argument("lab", help="the lab id (its lab.toml declares [leaderboard])")
    gradebook_option(p)
    p.add_argument("--instructor", action="store_true", help="show it before the reveal time")
    p.add_argument("--pseudonyms", action="store_true", help="stable pseudonyms instead of student ids (not "
                   "reversible without the gradebook)")
    p.set_defaults(run=cmd_leaderboard)

    p = sub.add_parser("lint", help="check labs' configuration, markers, tests and mutants (instructors)")
    p.add_argument("labs", nargs="*", help="lab ids (default: all)")
    p.set_defaults(run=cmd_lint)

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
        for problem in exc.problems:
            say_problem(problem, "error:")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


def run() -> None:
    """The ``autograder`` command: ``main``, then an exit that skips the last collection's walk over every
    object (a third of a second once torch is loaded: the process ends anyway, its finalisers still run)."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()

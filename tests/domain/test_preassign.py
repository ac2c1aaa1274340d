"""Tests for pre-assignment CSV files: good files, every problem type, matching, and fuzzing."""

from __future__ import annotations

import csv
import io
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webinar.domain.preassign import (
    MAX_ROWS,
    CsvProblem,
    PreassignError,
    Preassignment,
    match,
    name_key,
    parse_preassignments,
)

pytestmark = pytest.mark.unit

FILE = "groups.csv"


def parse(text: str, group_count: int | None = None) -> list[Preassignment]:
    return parse_preassignments(text, FILE, group_count=group_count)


def error_of(text: str, group_count: int | None = None) -> str:
    with pytest.raises(PreassignError) as caught:
        parse(text, group_count)
    return str(caught.value)


def row(line: int, name: str, email: str, group: int) -> Preassignment:
    return Preassignment(line=line, name=name, email=email, group=group)


# --- good files ----------------------------------------------------------------------------

EXPECTED_TRIO = [
    row(2, "Alice Smith", "alice@example.org", 1),
    row(3, "Bob Jones", "", 2),
    row(4, "", "carol@example.org", 3),
]


def test_parse_comma_file_returns_rows() -> None:
    text = "name,email,group\nAlice Smith,alice@example.org,1\nBob Jones,,2\n,carol@example.org,3\n"

    assert parse(text) == EXPECTED_TRIO


def test_parse_semicolon_file_returns_rows() -> None:
    text = "Name;Email;Group\nAlice Smith;alice@example.org;1\nBob Jones;;2\n;carol@example.org;3\n"

    assert parse(text) == EXPECTED_TRIO


def test_parse_tab_file_returns_rows() -> None:
    text = (
        "name\temail\tgroup\nAlice Smith\talice@example.org\t1\n"
        "Bob Jones\t\t2\n\tcarol@example.org\t3"
    )

    assert parse(text) == EXPECTED_TRIO


def test_parse_leading_bom_is_ignored() -> None:
    text = "\ufeffgroup,name\n1,Alice Smith\n"

    assert parse(text) == [row(2, "Alice Smith", "", 1)]


def test_parse_crlf_line_endings_keep_line_numbers() -> None:
    text = "name,group\r\nAlice Smith,1\r\n\r\nBob Jones,2\r\n"

    assert parse(text) == [row(2, "Alice Smith", "", 1), row(4, "Bob Jones", "", 2)]


def test_parse_extra_columns_are_ignored() -> None:
    text = (
        "Organisation,Full Name,Notes,E-mail,Breakout Group,Dietary\n"
        "Acme,Alice Smith,prefers mornings,alice@example.org,2,none\n"
    )

    assert parse(text) == [row(2, "Alice Smith", "alice@example.org", 2)]


@pytest.mark.parametrize(
    ("written", "group"),
    [
        ("3", 3),
        (" 3 ", 3),
        ("Group 3", 3),
        ("group3", 3),
        ("GROUP  12", 12),
        ("Room 4", 4),
        ("#5", 5),
        ("007", 7),
    ],
)
def test_parse_group_written_in_words_is_accepted(written: str, group: int) -> None:
    text = f'name,group\nAlice,"{written}"\n'

    assert parse(text) == [row(2, "Alice", "", group)]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Name,Group", row(2, "x@y.org", "", 1)),
        ("FULL NAME,Group Number", row(2, "x@y.org", "", 1)),
        ("attendee,room", row(2, "x@y.org", "", 1)),
        ("Email,Breakout Group", row(2, "", "x@y.org", 1)),
        ("e-mail,group", row(2, "", "x@y.org", 1)),
        ("Email Address,group", row(2, "", "x@y.org", 1)),
        (" email_address , GROUP ", row(2, "", "x@y.org", 1)),
    ],
)
def test_parse_header_aliases_are_recognised(header: str, expected: Preassignment) -> None:
    assert parse(f"{header}\nx@y.org,1\n") == [expected]


def test_parse_short_row_with_needed_columns_is_accepted() -> None:
    text = "group,name,email,notes\n1,Alice\n"

    assert parse(text) == [row(2, "Alice", "", 1)]


def test_parse_long_row_with_needed_columns_is_accepted() -> None:
    text = "name,group\nAlice,1,surplus,values\n"

    assert parse(text) == [row(2, "Alice", "", 1)]


def test_parse_empty_rows_are_skipped_silently() -> None:
    text = "\n\nname,email,group\n\n,,\n , \t,\nAlice,,1\n\t\n"

    assert parse(text) == [row(7, "Alice", "", 1)]


def test_parse_quoted_values_keep_their_delimiters() -> None:
    text = 'name,group\n"Smith, Alice","Group 2"\n"O""Brien",3\n'

    assert parse(text) == [row(2, "Smith, Alice", "", 2), row(3, 'O"Brien', "", 3)]


def test_parse_quoted_line_break_outside_needed_columns_counts_from_row_start() -> None:
    text = 'name,notes,group\nAlice,"two\nlines",1\nBob,,2\n'

    assert parse(text) == [row(2, "Alice", "", 1), row(4, "Bob", "", 2)]


def test_parse_excel_sep_line_sets_delimiter() -> None:
    text = "sep=;\nname;group\nSmith, Alice;2\n"

    assert parse(text) == [row(3, "Smith, Alice", "", 2)]


def test_parse_values_are_tidied() -> None:
    text = "name,email,group\n  Alice \t  Smith ,  Alice.Smith@Example.ORG ,1\n"

    assert parse(text) == [row(2, "Alice Smith", "alice.smith@example.org", 1)]


def test_parse_name_is_nfc_normalised() -> None:
    text = "name,group\nJose\u0301,1\n"

    assert parse(text) == [row(2, "Jos\u00e9", "", 1)]


def test_parse_same_name_with_different_emails_is_two_people() -> None:
    text = "name,email,group\nSam Lee,sam1@example.org,1\nSam Lee,sam2@example.org,2\n"

    assert parse(text) == [
        row(2, "Sam Lee", "sam1@example.org", 1),
        row(3, "Sam Lee", "sam2@example.org", 2),
    ]


def test_parse_group_count_allows_highest_group() -> None:
    assert parse("name,group\nAlice,4\n", group_count=4) == [row(2, "Alice", "", 4)]


def test_parse_group_above_ten_thousand_is_fine_when_count_allows() -> None:
    assert parse("name,group\nAlice,10000\n") == [row(2, "Alice", "", 10000)]


def test_parse_csv_writer_output_round_trips() -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerows([["Email", "Name", "Group"], ["a@b.org", 'Ann "Nan" Lee; Jr', "Group 7"]])

    assert parse(buffer.getvalue()) == [row(2, 'Ann "Nan" Lee; Jr', "a@b.org", 7)]


# --- problems: the file as a whole ---------------------------------------------------------

EMPTY = (
    'groups.csv: the file is empty; it needs a header row such as "name,email,group" '
    "and then one row per person."
)


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\r\n\t\n", "\ufeff", "\ufeff\n", ";", ",,\n , \n", "sep=;\n"]
)
def test_parse_empty_file_is_reported(text: str) -> None:
    assert error_of(text) == EMPTY


def test_parse_header_without_rows_is_reported() -> None:
    assert error_of("name,group\n\n,\n") == (
        "groups.csv: the file lists nobody: it has a header row but no rows of people below it."
    )


def test_parse_missing_header_is_reported() -> None:
    assert error_of("Alice Smith,alice@example.org,3\nBob,,2\n") == (
        "groups.csv, line 1: the first row should be a header naming the columns, such as "
        '"name,email,group", but it has "Alice Smith", "alice@example.org", "3".'
    )


def test_parse_missing_group_column_is_reported() -> None:
    assert error_of("\nName,Email,Team\nAlice,a@b.org,1\n") == (
        'groups.csv, line 2: the header has no group column (it has "Name", "Email", "Team"); '
        'add a column headed "group".'
    )


def test_parse_missing_name_and_email_columns_is_reported() -> None:
    assert error_of("Group;Person;Mail\n1;Alice;a@b.org\n") == (
        "groups.csv, line 1: the header has neither a name nor an email column "
        '(it has "Group", "Person", "Mail"); add a column headed "name" or "email".'
    )


def test_parse_repeated_column_is_reported() -> None:
    assert error_of("Name,Room,Group\nAlice,1,1\n") == (
        'groups.csv, line 1: the header has more than one group column ("Room", "Group"); '
        "keep only one."
    )


def test_parse_header_column_list_is_shortened() -> None:
    header = ",".join(f"c{number}" for number in range(1, 14))
    shown = ", ".join(f'"c{number}"' for number in range(1, 11))

    assert error_of(f"{header},name\nx\n") == (
        f"groups.csv, line 1: the header has no group column (it has {shown} and 4 more); "
        'add a column headed "group".'
    )


def test_parse_too_many_rows_is_one_problem() -> None:
    text = "name,group\n" + "".join(f"Person {number},x\n" for number in range(MAX_ROWS + 1))

    assert error_of(text) == (
        "groups.csv: the file lists more than 20,000 people; "
        "at most 20,000 can be pre-assigned at once."
    )


def test_parse_exactly_max_rows_is_accepted() -> None:
    text = "name,group\n" + "".join(f"Person {number},1\n" for number in range(MAX_ROWS))

    assert len(parse(text)) == MAX_ROWS


def test_parse_unreadable_huge_value_is_reported() -> None:
    text = 'name,group\nAlice,1\n"' + "x" * 200_000 + "\n"

    assert error_of(text) == (
        f"groups.csv, line 3: a value on this line is longer than "
        f"{csv.field_size_limit():,} characters, so the file could not be read; "
        'check for a stray double quote (").'
    )


# --- problems: rows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,email,group\nAlice,,1\n , ,2\n", "neither a name nor an email address; fill one in"),
        ("name,group\nAlice,1\n,2\n", "no name; fill it in"),
        ("email,group\na@x.org,1\n,2\n", "no email address; fill it in"),
    ],
)
def test_parse_row_without_person_is_reported(text: str, message: str) -> None:
    assert error_of(text) == f"groups.csv, line 3: this row has {message} or delete the row."


def test_parse_blank_group_is_reported() -> None:
    assert error_of("name,group\nAlice,  \nBob\n") == (
        "groups.csv, line 2: this row has no group; give a group number such as 3.\n"
        "groups.csv, line 3: this row has no group; give a group number such as 3."
    )


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("x", '"x"'),
        ("0", '"0"'),
        ("Group 0", '"Group 0"'),
        ("-1", '"-1"'),
        ("3.5", '"3.5"'),
        ("three", '"three"'),
        ("Group", '"Group"'),
        ("1 2", '"1 2"'),
        ("\u0663", '"\u0663"'),
    ],
)
def test_parse_group_not_positive_whole_number_is_reported(written: str, shown: str) -> None:
    assert error_of(f'name,group\nAlice,"{written}"\n') == (
        f"groups.csv, line 2: the group {shown} is not a positive whole number such as 3."
    )


def test_parse_group_above_group_count_is_reported() -> None:
    assert error_of("name,group\nAlice,Group 9\nBob,8\n", group_count=8) == (
        "groups.csv, line 2: there is no group 9: the breakout has 8 groups, numbered 1 to 8."
    )


@pytest.mark.parametrize(
    ("group_count", "reason"),
    [(1, "the breakout has only 1 group"), (0, "the breakout has no groups")],
)
def test_parse_group_above_small_group_count_is_reported(group_count: int, reason: str) -> None:
    assert error_of("name,group\nAlice,2\n", group_count=group_count) == (
        f"groups.csv, line 2: there is no group 2: {reason}."
    )


def test_parse_huge_group_above_group_count_is_reported_quoted() -> None:
    digits = "9" * 5000

    assert error_of(f"name,group\nAlice,{digits}\n", group_count=8) == (
        f'groups.csv, line 2: there is no group "{"9" * 57}...": '
        "the breakout has 8 groups, numbered 1 to 8."
    )


def test_parse_group_too_large_without_group_count_is_reported() -> None:
    assert error_of("name,group\nAlice,10001\n") == (
        "groups.csv, line 2: the group 10001 is too large; groups are numbered 1 to 10,000."
    )


@pytest.mark.parametrize(
    "email",
    [
        "bob at example.org",
        "bob@example",
        "a@@example.org",
        "@example.org",
        "a@b@c.org",
        "a@.org",
        "a@example.",
        "Bob <bob@example.org>",
    ],
)
def test_parse_malformed_email_is_reported(email: str) -> None:
    assert error_of(f'name,email,group\nBob,"{email}",1\n') == (
        f'groups.csv, line 2: the email address "{email}" is not valid; '
        "write it like name@example.org."
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Alice Smith", "Alice Smith"),
        ("Alice Smith", "  ALICE   smith "),
        ("Jos\u00e9 Diaz", "Jose\u0301 diaz"),
        ("Stra\u00dfe", "STRASSE"),
    ],
)
def test_parse_same_name_twice_is_reported(first: str, second: str) -> None:
    text = f"name,group\n{first},1\nBob,2\n{second},3\n"
    shown = " ".join(second.split()).replace("e\u0301", "\u00e9")

    assert error_of(text) == (
        f'groups.csv, line 4: "{shown}" is listed twice, on lines 2 and 4; '
        "keep only one of the rows."
    )


def test_parse_same_person_twice_with_same_group_is_reported() -> None:
    assert error_of("name,group\nAlice,1\nAlice,1\n") == (
        'groups.csv, line 3: "Alice" is listed twice, on lines 2 and 3; keep only one of the rows.'
    )


def test_parse_same_email_twice_is_reported() -> None:
    text = "name,email,group\nAlice,alice@example.org,1\nAl,ALICE@example.org,2\n"

    assert error_of(text) == (
        'groups.csv, line 3: the email address "alice@example.org" is listed twice, '
        "on lines 2 and 3; keep only one of the rows."
    )


def test_parse_same_name_with_and_without_email_is_reported() -> None:
    text = "name,email,group\nSam Lee,sam@example.org,1\nSam Lee,,2\n"

    assert error_of(text) == (
        'groups.csv, line 3: "Sam Lee" is listed twice, on lines 2 and 3; '
        "keep only one of the rows."
    )


def test_parse_long_value_is_clipped_to_sixty_characters() -> None:
    long_group = "G" * 100

    message = error_of(f"name,group\nAlice,{long_group}\n")

    assert message == (
        f'groups.csv, line 2: the group "{"G" * 57}..." is not a positive whole number such as 3.'
    )


def test_parse_unprintable_characters_are_escaped() -> None:
    assert error_of('name,group\nAlice,"4\x00\u200b\\"\n') == (
        'groups.csv, line 2: the group "4\\x00\\u200b\\\\" is not a positive whole number '
        "such as 3."
    )


def test_parse_quote_inside_value_is_escaped() -> None:
    assert error_of('name,group\nAlice,"say ""3"""\n') == (
        'groups.csv, line 2: the group "say \\"3\\"" is not a positive whole number such as 3.'
    )


def test_parse_value_running_over_lines_is_reported() -> None:
    assert error_of('name,group\n"Alice,1\nBob,2\n') == (
        'groups.csv, line 2: the name "Alice,1\\nBob,2" runs over more than one line; '
        'check this row for a stray double quote (").'
    )


def test_parse_several_problems_are_all_reported_in_line_order() -> None:
    text = (
        "Name,Email,Group\n"
        "Alice,alice@example.org,1\n"
        ",,2\n"
        "Bob,bob at example.org,zero\n"
        "alice,,1\n"
        "\n"
        "Carol,carol@example.org,12\n"
    )

    assert error_of(text, group_count=10) == (
        "groups.csv, line 3: this row has neither a name nor an email address; "
        "fill one in or delete the row.\n"
        'groups.csv, line 4: the email address "bob at example.org" is not valid; '
        "write it like name@example.org.\n"
        'groups.csv, line 4: the group "zero" is not a positive whole number such as 3.\n'
        'groups.csv, line 5: "alice" is listed twice, on lines 2 and 5; '
        "keep only one of the rows.\n"
        "groups.csv, line 7: there is no group 12: the breakout has 10 groups, numbered 1 to 10."
    )


def test_parse_error_lists_problems() -> None:
    with pytest.raises(PreassignError) as caught:
        parse("name,group\nAlice,x\n,1\n")

    assert caught.value.problems == [
        CsvProblem(2, 'the group "x" is not a positive whole number such as 3.', FILE),
        CsvProblem(3, "this row has no name; fill it in or delete the row.", FILE),
    ]


def test_parse_error_is_a_value_error_that_pickles() -> None:
    with pytest.raises(ValueError) as caught:
        parse("")

    copied = pickle.loads(pickle.dumps(caught.value))

    assert (type(copied), str(copied)) == (PreassignError, EMPTY)


@pytest.mark.parametrize(
    ("problem", "shown"),
    [
        (CsvProblem(7, "bad.", "groups.csv"), "groups.csv, line 7: bad."),
        (CsvProblem(None, "bad.", "groups.csv"), "groups.csv: bad."),
        (CsvProblem(7, "bad."), "line 7: bad."),
        (CsvProblem(None, "bad."), "bad."),
    ],
)
def test_csv_problem_str_names_file_and_line(problem: CsvProblem, shown: str) -> None:
    assert str(problem) == shown


# --- name_key ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Alice Smith", "alice smith"),
        ("  ALICE \t\n Smith  ", "alice smith"),
        ("Jose\u0301", "jos\u00e9"),
        ("JOS\u00c9", "jos\u00e9"),
        ("Stra\u00dfe", "strasse"),
        ("Ann\u00a0Lee", "ann lee"),
        ("", ""),
    ],
)
def test_name_key_normalises_case_space_and_accents(name: str, key: str) -> None:
    assert name_key(name) == key


# --- match ---------------------------------------------------------------------------------

PEOPLE = {
    "p1": ("Alice Smith", "alice@example.org"),
    "p2": ("Bob Jones", "BOB@example.org"),
    "p3": ("Sam Lee", "sam1@example.org"),
    "p4": ("sam  lee", "sam2@example.org"),
    "p5": ("Jos\u00e9 Diaz", ""),
}


def test_match_by_email_ignores_case() -> None:
    rows = [row(2, "", "bob@example.org", 3)]

    assert match(rows, PEOPLE) == ({"p2": 3}, [])


def test_match_by_email_wins_over_name() -> None:
    rows = [row(2, "Alice Smith", "bob@example.org", 3)]

    assert match(rows, PEOPLE) == ({"p2": 3}, [])


def test_match_by_name_normalises() -> None:
    rows = [row(2, "JOSE\u0301  DIAZ", "", 4), row(3, "alice smith", "", 1)]

    assert match(rows, PEOPLE) == ({"p5": 4, "p1": 1}, [])


def test_match_by_name_when_email_is_unknown() -> None:
    rows = [row(2, "Bob Jones", "bobby@elsewhere.org", 2)]

    assert match(rows, PEOPLE) == ({"p2": 2}, [])


def test_match_ambiguous_name_is_returned_unused() -> None:
    rows = [row(2, "Sam Lee", "", 1), row(3, "Alice Smith", "", 2)]

    assert match(rows, PEOPLE) == ({"p1": 2}, [rows[0]])


def test_match_ambiguous_name_resolved_by_email() -> None:
    rows = [row(2, "Sam Lee", "sam2@example.org", 1)]

    assert match(rows, PEOPLE) == ({"p4": 1}, [])


def test_match_name_skips_people_matched_by_email() -> None:
    rows = [row(2, "Sam Lee", "", 1), row(3, "Sam Lee", "sam1@example.org", 2)]

    assert match(rows, PEOPLE) == ({"p3": 2, "p4": 1}, [])


def test_match_unknown_rows_are_returned_in_file_order() -> None:
    rows = [
        row(2, "Nobody", "", 1),
        row(3, "", "ghost@example.org", 2),
        row(4, "Sam Lee", "", 3),
        row(5, "Alice Smith", "", 4),
    ]

    assert match(rows, PEOPLE) == ({"p1": 4}, [rows[0], rows[1], rows[2]])


SHARED = {"a": ("Ann Lee", "team@example.org"), "b": ("Ben Ray", "team@example.org")}


def test_match_shared_email_is_narrowed_by_name() -> None:
    rows = [row(2, "ben ray", "team@example.org", 5)]

    assert match(rows, SHARED) == ({"b": 5}, [])


def test_match_shared_email_without_name_is_returned_unused() -> None:
    rows = [row(2, "", "team@example.org", 5), row(3, "Cy Dunn", "team@example.org", 6)]

    assert match(rows, SHARED) == ({}, rows)


def test_match_shared_email_goes_to_the_person_left() -> None:
    rows = [row(2, "Ben Ray", "team@example.org", 5), row(3, "", "team@example.org", 6)]

    assert match(rows, SHARED) == ({"b": 5, "a": 6}, [])


def test_match_person_is_assigned_by_first_row_only() -> None:
    rows = [row(2, "", "alice@example.org", 1), row(3, "Alice Smith", "", 2)]

    assert match(rows, PEOPLE) == ({"p1": 1}, [rows[1]])


def test_match_nobody_present_returns_every_row() -> None:
    rows = [row(2, "Alice Smith", "alice@example.org", 1)]

    assert match(rows, {}) == ({}, rows)


# --- fuzzing -------------------------------------------------------------------------------

CSV_ALPHABET = st.sampled_from(
    [*'ab @.,;\t\n\r"03-_#\ufeff\x00\u00e9\u2028', "name", "email", "group", "Group 2"]
)
CSV_TEXT = st.lists(CSV_ALPHABET, max_size=60).map("".join)
GROUP_COUNTS = st.none() | st.integers(-2, 12)


def parse_or_problems(text: str, group_count: int | None) -> list[Preassignment] | None:
    try:
        rows = parse(text, group_count)
    except PreassignError as exc:
        assert exc.problems
        assert all(problem.file == FILE and problem.message for problem in exc.problems)
        return None
    assert rows
    assert all(r.group >= 1 and (r.name or r.email) for r in rows)
    return rows


@given(st.text(), GROUP_COUNTS)
def test_fuzz_arbitrary_text_raises_only_preassign_error(
    text: str, group_count: int | None
) -> None:
    parse_or_problems(text, group_count)


@given(CSV_TEXT, GROUP_COUNTS)
def test_fuzz_csv_like_text_raises_only_preassign_error(text: str, group_count: int | None) -> None:
    parse_or_problems("name,email,group\n" + text, group_count)
    parse_or_problems(text, group_count)


NAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=20
)


@given(
    st.lists(
        st.tuples(NAMES, st.integers(1, 50)),
        min_size=1,
        max_size=8,
        unique_by=lambda pair: name_key(pair[0]),
    ),
    st.sampled_from([",", ";", "\t"]),
)
def test_fuzz_written_rows_read_back(pairs: list[tuple[str, int]], delimiter: str) -> None:
    people = [(name, group) for name, group in pairs if name_key(name)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["Group", "Name"])
    writer.writerows([[group, name] for name, group in people])

    rows = parse_or_problems(buffer.getvalue(), None) if people else None

    assert [(name_key(r.name), r.group) for r in rows or []] == [
        (name_key(name), group) for name, group in people
    ]

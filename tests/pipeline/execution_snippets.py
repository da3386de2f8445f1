"""Small functions for the execution-verified generation tests (issue 13), each with the right
code, a wrong variant, hand-written tests in its language's sandbox form
(`pipeline.execution.tester.TEST_FORMS`: Python asserts, JavaScript/PHP throws, Go `TestXxx`
functions, Ruby raises, Java a `Main` class throwing `AssertionError`, C++ `assert`s in `main`,
Rust a `#[cfg(test)]` module) that the right code passes and the wrong one fails, and for most a
translation (right and wrong) with tests of its own. Checked in the real sandbox for every task:
tests/pipeline/test_execution_run.py."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Fixture:
    """A snippet: its function `name`, what it does (`does`, a verb phrase), the right `code`
    and a `wrong` variant, `tests` (right passes, wrong fails); a translation into `target` with
    its `translated` and `translated_wrong` code and `target_tests`."""

    id: str
    language: str
    name: str
    does: str
    code: str
    wrong: str
    tests: str
    target: str | None = None
    translated: str = ""
    translated_wrong: str = ""
    target_tests: str = ""


def _js_checks(*checks: tuple[str, str]) -> str:
    return "".join(
        f"if ({call} !== {want}) {{\n  throw new Error({f'{call} should be {want}'!r});\n}}\n"
        for call, want in checks
    )


def _php_checks(*checks: tuple[str, str]) -> str:
    return "".join(
        f"if ({call} !== {want}) {{\n    throw new Exception({f'{call} should be {want}'!r});\n}}\n"
        for call, want in checks
    )


def _ruby_checks(*checks: tuple[str, str]) -> str:
    return "".join(
        f"raise {f'{call} should be {want}'!r} unless {call} == {want}\n" for call, want in checks
    )


def _go_test(name: str, *checks: tuple[str, str]) -> str:
    lines = []
    for call, want in checks:
        message = json.dumps(call + " = %v")
        lines.append(f"\tif got := {call}; got != {want} {{\n\t\tt.Fatalf({message}, got)\n\t}}\n")
    body = "".join(lines)
    return f"func Test{name}(t *testing.T) {{\n{body}}}\n"


FIXTURES = [
    Fixture(
        "py_digit_sum", "python", "digit_sum", "returns the sum of the decimal digits of n",
        'def digit_sum(n):\n    """Return the sum of the decimal digits of n, ignoring its sign."""\n'
        "    return sum(int(d) for d in str(abs(n)))\n",
        "def digit_sum(n):\n    return sum(int(d) for d in str(abs(n))[1:])\n",
        "assert digit_sum(123) == 6\nassert digit_sum(-45) == 9\nassert digit_sum(0) == 0\n",
        "go",
        "// DigitSum returns the sum of the decimal digits of n, ignoring its sign.\n"
        "func DigitSum(n int) int {\n\tif n < 0 {\n\t\tn = -n\n\t}\n\ttotal := 0\n"
        "\tfor ; n > 0; n /= 10 {\n\t\ttotal += n % 10\n\t}\n\treturn total\n}\n",
        "func DigitSum(n int) int {\n\ttotal := 0\n\tfor ; n > 9; n /= 10 {\n\t\ttotal += n % 10\n"
        "\t}\n\treturn total\n}\n",
        _go_test("DigitSum", ("DigitSum(123)", "6"), ("DigitSum(-45)", "9"), ("DigitSum(0)", "0")),
    ),
    Fixture(
        "py_sign", "python", "sign", "returns the sign of x as -1, 0 or 1",
        'def sign(x):\n    """The sign of x: -1, 0 or 1."""\n    return (x > 0) - (x < 0)\n',
        "def sign(x):\n    return 1 if x >= 0 else -1\n",
        "assert sign(5) == 1\nassert sign(-2) == -1\nassert sign(0) == 0\n",
    ),
    Fixture(
        "py_count_vowels", "python", "count_vowels", "counts the vowels of text in either case",
        'def count_vowels(text):\n    """Count the vowels (a, e, i, o, u, either case) in text."""\n'
        '    return sum(1 for c in text.lower() if c in "aeiou")\n',
        'def count_vowels(text):\n    return sum(1 for c in text if c in "aeiou")\n',
        'assert count_vowels("Hello") == 2\nassert count_vowels("AEIOU xyz") == 5\n'
        'assert count_vowels("") == 0\n',
        "javascript",
        "// Counts the vowels (a, e, i, o, u, either case) in text.\nfunction countVowels(text) {\n"
        '  return [...text.toLowerCase()].filter((c) => "aeiou".includes(c)).length;\n}\n',
        'function countVowels(text) {\n  return [...text].filter((c) => "aeiou".includes(c)).length;\n}\n',
        _js_checks(('countVowels("Hello")', "2"), ('countVowels("AEIOU xyz")', "5"), ('countVowels("")', "0")),
    ),
    Fixture(
        "py_is_leap", "python", "is_leap", "tells whether a year is a Gregorian leap year",
        'def is_leap(year):\n    """Whether year is a leap year of the Gregorian calendar."""\n'
        "    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n",
        "def is_leap(year):\n    return year % 4 == 0\n",
        "assert is_leap(2024)\nassert not is_leap(1900)\nassert is_leap(2000)\nassert not is_leap(2023)\n",
        "rust",
        "/// Whether year is a leap year of the Gregorian calendar.\nfn is_leap(year: i32) -> bool {\n"
        "    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)\n}\n",
        "fn is_leap(year: i32) -> bool {\n    year % 4 == 0\n}\n",
        "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn leap_years() {\n"
        "        assert_eq!(is_leap(2024), true);\n        assert_eq!(is_leap(1900), false);\n"
        "        assert_eq!(is_leap(2000), true);\n    }\n}\n",
    ),
    Fixture(
        "py_clamp", "python", "clamp", "limits x to the range from lo to hi",
        'def clamp(x, lo, hi):\n    """Limit x to the closed range [lo, hi]."""\n'
        "    return max(lo, min(hi, x))\n",
        "def clamp(x, lo, hi):\n    return min(lo, max(hi, x))\n",
        "assert clamp(5, 0, 10) == 5\nassert clamp(-3, 0, 10) == 0\nassert clamp(42, 0, 10) == 10\n",
        "c++",
        "// Limits x to the closed range [lo, hi].\nint clamp_to(int x, int lo, int hi) {\n"
        "    return max(lo, min(hi, x));\n}\n",
        "int clamp_to(int x, int lo, int hi) {\n    return min(lo, max(hi, x));\n}\n",
        "int main() {\n    assert(clamp_to(5, 0, 10) == 5);\n    assert(clamp_to(-3, 0, 10) == 0);\n"
        "    assert(clamp_to(42, 0, 10) == 10);\n    return 0;\n}\n",
    ),
    Fixture(
        "py_gcd", "python", "gcd", "returns the greatest common divisor of a and b",
        'def gcd(a, b):\n    """Greatest common divisor of two non-negative integers (Euclid)."""\n'
        "    while b:\n        a, b = b, a % b\n    return a\n",
        "def gcd(a, b):\n    return min(a, b)\n",
        "assert gcd(12, 8) == 4\nassert gcd(17, 5) == 1\nassert gcd(0, 9) == 9\n",
        "php",
        "// Greatest common divisor of two non-negative integers (Euclid).\n"
        "function gcd_of(int $a, int $b): int {\n    while ($b !== 0) {\n"
        "        [$a, $b] = [$b, $a % $b];\n    }\n    return $a;\n}\n",
        "function gcd_of(int $a, int $b): int {\n    return min($a, $b);\n}\n",
        _php_checks(("gcd_of(12, 8)", "4"), ("gcd_of(17, 5)", "1"), ("gcd_of(0, 9)", "9")),
    ),
    Fixture(
        "py_mean", "python", "mean", "returns the arithmetic mean of a list of numbers",
        'def mean(values):\n    """Arithmetic mean of a non-empty list of numbers."""\n'
        "    return sum(values) / len(values)\n",
        "def mean(values):\n    return sum(values) / (len(values) + 1)\n",
        "assert mean([1, 2, 3]) == 2\nassert mean([4]) == 4\n",
        "typescript",
        "// Arithmetic mean of a non-empty list of numbers.\nfunction mean(values: number[]): number {\n"
        "  return values.reduce((a, b) => a + b, 0) / values.length;\n}\n",
        "function mean(values: number[]): number {\n  return values.length;\n}\n",
        _js_checks(("mean([1, 2, 3])", "2"), ("mean([4])", "4")),
    ),
    Fixture(
        "py_palindrome", "python", "is_palindrome", "tells whether text reads the same backwards",
        "def is_palindrome(text):\n"
        '    """Whether text reads the same backwards, ignoring case and non-letters."""\n'
        "    letters = [c.lower() for c in text if c.isalpha()]\n    return letters == letters[::-1]\n",
        "def is_palindrome(text):\n    letters = [c for c in text if c.isalpha()]\n"
        "    return letters == letters[::-1]\n",
        'assert is_palindrome("Racecar")\nassert is_palindrome("A man, a plan, a canal: Panama")\n'
        'assert not is_palindrome("python")\n',
    ),
    Fixture(
        "py_word_lengths", "python", "word_lengths", "returns the length of each word of a sentence",
        'def word_lengths(sentence):\n    """The length of each whitespace-separated word."""\n'
        "    return [len(word) for word in sentence.split()]\n",
        'def word_lengths(sentence):\n    return [len(word) for word in sentence.split(" ")]\n',
        'assert word_lengths("to be or") == [2, 2, 2]\nassert word_lengths("  spaced   out ") == [6, 3]\n'
        'assert word_lengths("") == []\n',
    ),
    Fixture(
        "py_squares", "python", "squares", "returns the squares of 1 to n",
        'def squares(n):\n    """The squares of 1 to n, in order."""\n'
        "    return [i * i for i in range(1, n + 1)]\n",
        "def squares(n):\n    return [i * i for i in range(n)]\n",
        "assert squares(3) == [1, 4, 9]\nassert squares(0) == []\n",
    ),
    Fixture(
        "py_chunks", "python", "chunks", "splits items into lists of at most size items",
        'def chunks(items, size):\n    """Split items into consecutive lists of at most size items."""\n'
        "    return [items[i : i + size] for i in range(0, len(items), size)]\n",
        "def chunks(items, size):\n    return [items[i : i + size] for i in range(0, len(items) - 1, size)]\n",
        "assert chunks([1, 2, 3], 2) == [[1, 2], [3]]\nassert chunks([], 3) == []\n",
    ),
    Fixture(
        "py_running_total", "python", "running_total", "returns the running totals of values",
        'def running_total(values):\n    """The running totals of values."""\n    out, total = [], 0\n'
        "    for value in values:\n        total += value\n        out.append(total)\n    return out\n",
        "def running_total(values):\n    return list(values)\n",
        "assert running_total([1, 2, 3]) == [1, 3, 6]\nassert running_total([]) == []\n",
    ),
    Fixture(
        "py_fib", "python", "fib", "returns the n-th Fibonacci number",
        'def fib(n):\n    """The n-th Fibonacci number (fib(0) = 0, fib(1) = 1)."""\n    a, b = 0, 1\n'
        "    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
        "def fib(n):\n    return n\n",
        "assert fib(0) == 0\nassert fib(1) == 1\nassert fib(10) == 55\n",
    ),
    Fixture(
        "py_dedupe", "python", "dedupe", "drops repeated items, keeping first occurrences",
        'def dedupe(items):\n    """items without repeats, first occurrences kept in order."""\n'
        "    return list(dict.fromkeys(items))\n",
        "def dedupe(items):\n    return list(set(items))\n",
        "assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]\nassert dedupe([]) == []\n",
    ),
    Fixture(
        "js_word_count", "javascript", "wordCount", "counts the words of text",
        "// Counts the words of text, separated by whitespace.\nfunction wordCount(text) {\n"
        '  const words = text.trim().split(/\\s+/);\n  return words[0] === "" ? 0 : words.length;\n}\n',
        'function wordCount(text) {\n  return text.split(" ").length;\n}\n',
        _js_checks(('wordCount("one two three")', "3"), ('wordCount("  padded   words ")', "2"), ('wordCount("")', "0")),
    ),
    Fixture(
        "js_last_of", "javascript", "lastOf", "returns the last element of an array",
        "// Returns the last element of an array, or undefined when it is empty.\n"
        "function lastOf(items) {\n  return items[items.length - 1];\n}\n",
        "function lastOf(items) {\n  return items[items.length];\n}\n",
        _js_checks(("lastOf([1, 2, 3])", "3"), ("lastOf([])", "undefined")),
    ),
    Fixture(
        "js_sum_evens", "javascript", "sumEvens", "sums the even numbers of an array",
        "// Sums the even numbers of an array.\nfunction sumEvens(numbers) {\n"
        "  return numbers.filter((n) => n % 2 === 0).reduce((a, b) => a + b, 0);\n}\n",
        "function sumEvens(numbers) {\n  return numbers.filter((n) => n % 2 === 1).reduce((a, b) => a + b, 0);\n}\n",
        _js_checks(("sumEvens([1, 2, 3, 4])", "6"), ("sumEvens([])", "0"), ("sumEvens([5])", "0")),
    ),
    Fixture(
        "js_is_sorted", "javascript", "isSorted", "tells whether numbers are in non-decreasing order",
        "// Whether an array of numbers is in non-decreasing order.\nfunction isSorted(values) {\n"
        "  for (let i = 1; i < values.length; i++) {\n    if (values[i - 1] > values[i]) {\n"
        "      return false;\n    }\n  }\n  return true;\n}\n",
        "function isSorted(values) {\n  for (let i = 1; i < values.length; i++) {\n"
        "    if (values[i - 1] >= values[i]) {\n      return false;\n    }\n  }\n  return true;\n}\n",
        _js_checks(("isSorted([1, 1, 2])", "true"), ("isSorted([3, 1])", "false"), ("isSorted([])", "true")),
    ),
    Fixture(
        "js_repeat_join", "javascript", "repeatJoin", "repeats text n times joined by sep",
        "// Repeats text n times, joined by sep.\nfunction repeatJoin(text, n, sep) {\n"
        "  return Array(n).fill(text).join(sep);\n}\n",
        "function repeatJoin(text, n, sep) {\n  return Array(n + 1).fill(text).join(sep);\n}\n",
        _js_checks(('repeatJoin("ab", 3, "-")', '"ab-ab-ab"'), ('repeatJoin("x", 0, ",")', '""')),
        "ruby",
        "# Repeats text n times, joined by sep.\ndef repeat_join(text, n, sep)\n"
        "  Array.new(n, text).join(sep)\nend\n",
        "def repeat_join(text, n, sep)\n  Array.new(n + 1, text).join(sep)\nend\n",
        _ruby_checks(('repeat_join("ab", 3, "-")', '"ab-ab-ab"'), ('repeat_join("x", 0, ",")', '""')),
    ),
    Fixture(
        "js_title_case", "javascript", "titleCase", "upper-cases the first letter of every word",
        "// Upper-cases the first letter of every word.\nfunction titleCase(text) {\n"
        "  return text.replace(/\\b\\w/g, (c) => c.toUpperCase());\n}\n",
        "function titleCase(text) {\n  return text.toUpperCase();\n}\n",
        _js_checks(('titleCase("hello world")', '"Hello World"'), ('titleCase("")', '""')),
    ),
    Fixture(
        "go_reverse", "go", "Reverse", "returns s with its characters in reverse order",
        "// Reverse returns s with its characters (runes) in reverse order.\n"
        "func Reverse(s string) string {\n\trunes := []rune(s)\n"
        "\tfor i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {\n"
        "\t\trunes[i], runes[j] = runes[j], runes[i]\n\t}\n\treturn string(runes)\n}\n",
        "func Reverse(s string) string {\n\tb := []byte(s)\n"
        "\tfor i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {\n\t\tb[i], b[j] = b[j], b[i]\n\t}\n"
        "\treturn string(b)\n}\n",
        _go_test("Reverse", ('Reverse("abc")', '"cba"'), ('Reverse("héllo")', '"olléh"'), ('Reverse("")', '""')),
    ),
    Fixture(
        "go_min_of", "go", "MinOf", "returns the smallest of a non-empty list of integers",
        "// MinOf returns the smallest of xs, which must not be empty.\nfunc MinOf(xs []int) int {\n"
        "\tm := xs[0]\n\tfor _, x := range xs[1:] {\n\t\tif x < m {\n\t\t\tm = x\n\t\t}\n\t}\n\treturn m\n}\n",
        "func MinOf(xs []int) int {\n\tm := xs[0]\n\tfor _, x := range xs[1:] {\n\t\tif x > m {\n"
        "\t\t\tm = x\n\t\t}\n\t}\n\treturn m\n}\n",
        _go_test("MinOf", ("MinOf([]int{3, 1, 2})", "1"), ("MinOf([]int{-5})", "-5")),
    ),
    Fixture(
        "go_count_byte", "go", "CountByte", "counts the occurrences of a byte in s",
        "// CountByte counts the occurrences of the byte c in s.\nfunc CountByte(s string, c byte) int {\n"
        "\tn := 0\n\tfor i := 0; i < len(s); i++ {\n\t\tif s[i] == c {\n\t\t\tn++\n\t\t}\n\t}\n\treturn n\n}\n",
        "func CountByte(s string, c byte) int {\n\tn := 0\n\tfor i := 1; i < len(s); i++ {\n"
        "\t\tif s[i] == c {\n\t\t\tn++\n\t\t}\n\t}\n\treturn n\n}\n",
        _go_test("CountByte", ("CountByte(\"banana\", 'a')", "3"), ("CountByte(\"banana\", 'b')", "1")),
    ),
    Fixture(
        "go_factorial", "go", "Factorial", "returns n factorial",
        "// Factorial returns n! for 0 <= n <= 20.\nfunc Factorial(n int) int {\n\tresult := 1\n"
        "\tfor i := 2; i <= n; i++ {\n\t\tresult *= i\n\t}\n\treturn result\n}\n",
        "func Factorial(n int) int {\n\tresult := 1\n\tfor i := 2; i < n; i++ {\n\t\tresult *= i\n\t}\n"
        "\treturn result\n}\n",
        _go_test("Factorial", ("Factorial(0)", "1"), ("Factorial(5)", "120"), ("Factorial(1)", "1")),
    ),
    Fixture(
        "go_is_prime", "go", "IsPrime", "reports whether n is a prime number",
        "// IsPrime reports whether n is a prime number.\nfunc IsPrime(n int) bool {\n\tif n < 2 {\n"
        "\t\treturn false\n\t}\n\tfor d := 2; d*d <= n; d++ {\n\t\tif n%d == 0 {\n\t\t\treturn false\n"
        "\t\t}\n\t}\n\treturn true\n}\n",
        "func IsPrime(n int) bool {\n\tfor d := 2; d*d < n; d++ {\n\t\tif n%d == 0 {\n"
        "\t\t\treturn false\n\t\t}\n\t}\n\treturn n > 1\n}\n",
        _go_test("IsPrime", ("IsPrime(2)", "true"), ("IsPrime(13)", "true"), ("IsPrime(9)", "false"), ("IsPrime(1)", "false")),
        "python",
        'def is_prime(n):\n    """Whether n is a prime number."""\n    if n < 2:\n        return False\n'
        "    d = 2\n    while d * d <= n:\n        if n % d == 0:\n            return False\n"
        "        d += 1\n    return True\n",
        "def is_prime(n):\n    d = 2\n    while d * d < n:\n        if n % d == 0:\n"
        "            return False\n        d += 1\n    return n > 1\n",
        "assert is_prime(2)\nassert is_prime(13)\nassert not is_prime(9)\nassert not is_prime(1)\n",
    ),
    Fixture(
        "php_percent", "php", "percent_of", "returns part as a percentage of whole",
        "// Percentage of part in whole, rounded to one decimal.\n"
        "function percent_of(float $part, float $whole): float {\n"
        "    return round($part / $whole * 100, 1);\n}\n",
        "function percent_of(float $part, float $whole): float {\n    return round($whole / $part * 100, 1);\n}\n",
        _php_checks(("percent_of(1, 4)", "25.0"), ("percent_of(1, 3)", "33.3")),
    ),
    Fixture(
        "php_first_word", "php", "first_word", "returns the first word of a sentence",
        '// The first word of a sentence, or "" when there is none.\n'
        "function first_word(string $sentence): string {\n"
        "    $words = preg_split('/\\s+/', trim($sentence));\n    return $words[0];\n}\n",
        "function first_word(string $sentence): string {\n    return explode(' ', $sentence)[0];\n}\n",
        _php_checks(('first_word("hello world")', '"hello"'), ('first_word("  padded start")', '"padded"'), ('first_word("")', '""')),
    ),
    Fixture(
        "php_cube", "php", "cube", "returns the cube of n",
        "// The cube of an integer n.\nfunction cube(int $n): int {\n    return $n * $n * $n;\n}\n",
        "function cube(int $n): int {\n    return $n * $n * 3;\n}\n",
        _php_checks(("cube(2)", "8"), ("cube(-3)", "-27"), ("cube(0)", "0")),
    ),
    Fixture(
        "php_double_all", "php", "double_all", "doubles every number of a list",
        "// Doubles every number of a list.\nfunction double_all(array $numbers): array {\n"
        "    return array_map(fn($n) => $n * 2, $numbers);\n}\n",
        "function double_all(array $numbers): array {\n    return array_map(fn($n) => $n + 2, $numbers);\n}\n",
        _php_checks(("double_all([1, 2, 3])", "[2, 4, 6]"), ("double_all([])", "[]")),
        "python",
        'def double_all(numbers):\n    """Doubles every number of a list."""\n'
        "    return [n * 2 for n in numbers]\n",
        "def double_all(numbers):\n    return [n + 2 for n in numbers]\n",
        "assert double_all([1, 2, 3]) == [2, 4, 6]\nassert double_all([]) == []\n",
    ),
    Fixture(
        "rb_squares_of", "ruby", "squares_of", "squares every number of a list",
        "# Squares every number of a list.\ndef squares_of(numbers)\n  numbers.map { |n| n * n }\nend\n",
        "def squares_of(numbers)\n  numbers.map { |n| n * 2 }\nend\n",
        _ruby_checks(("squares_of([1, 2, 3])", "[1, 4, 9]"), ("squares_of([])", "[]")),
    ),
    Fixture(
        "rb_shout", "ruby", "shout", "upper-cases text and adds an exclamation mark",
        '# Upper-cases text and adds an exclamation mark.\ndef shout(text)\n  "#{text.upcase}!"\nend\n',
        "def shout(text)\n  text.upcase\nend\n",
        _ruby_checks(('shout("hi")', '"HI!"'), ('shout("")', '"!"')),
    ),
    Fixture(
        "rb_sum_odd", "ruby", "sum_odd", "sums the odd numbers of a list",
        "# Sums the odd numbers of a list.\ndef sum_odd(numbers)\n  numbers.select(&:odd?).sum\nend\n",
        "def sum_odd(numbers)\n  numbers.select(&:even?).sum\nend\n",
        _ruby_checks(("sum_odd([1, 2, 3])", "4"), ("sum_odd([])", "0")),
    ),
    Fixture(
        "rb_count_char", "ruby", "count_char", "counts how often ch occurs in text",
        "# Counts how often the character ch occurs in text.\ndef count_char(text, ch)\n"
        "  text.count(ch)\nend\n",
        "def count_char(text, ch)\n  text.count(ch) + 1\nend\n",
        _ruby_checks(('count_char("banana", "a")', "3"), ('count_char("", "a")', "0")),
        "javascript",
        "// Counts how often the character ch occurs in text.\nfunction countChar(text, ch) {\n"
        "  return text.split(ch).length - 1;\n}\n",
        "function countChar(text, ch) {\n  return text.split(ch).length;\n}\n",
        _js_checks(('countChar("banana", "a")', "3"), ('countChar("", "a")', "0")),
    ),
    Fixture(
        "rb_initials", "ruby", "initials", "returns the upper-cased initials of a name",
        "# Initials of a full name, upper-cased.\ndef initials(name)\n"
        "  name.split.map { |word| word[0].upcase }.join\nend\n",
        "def initials(name)\n  name[0].upcase\nend\n",
        _ruby_checks(('initials("ada lovelace")', '"AL"'), ('initials("")', '""')),
    ),
    Fixture(
        "java_max_of_three", "java", "maxOfThree", "returns the largest of three integers",
        "/** The largest of three integers. */\npublic static int maxOfThree(int a, int b, int c) {\n"
        "    return Math.max(a, Math.max(b, c));\n}\n",
        "public static int maxOfThree(int a, int b, int c) {\n    return Math.min(a, Math.max(b, c));\n}\n",
        "public class Main {\n    public static void main(String[] args) {\n"
        "        if (Solution.maxOfThree(1, 5, 3) != 5) {\n"
        '            throw new AssertionError("maxOfThree(1, 5, 3) should be 5");\n        }\n'
        "        if (Solution.maxOfThree(-1, -2, -3) != -1) {\n"
        '            throw new AssertionError("maxOfThree(-1, -2, -3) should be -1");\n        }\n'
        "    }\n}\n",
    ),
]  # fmt: skip
BY_ID = {f.id: f for f in FIXTURES}
BY_NAME = {f.name: f for f in FIXTURES}

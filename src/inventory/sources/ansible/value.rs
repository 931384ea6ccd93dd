//! Variable values as Ansible holds them after parsing: typed the way
//! its INI reader (Python's `ast.literal_eval`) and its YAML reader
//! (YAML 1.1, as PyYAML resolves plain scalars) type them, because a
//! port of `022` is the text "022" in INI but the number 18 in YAML.

use crate::inventory::sources::Origin;
pub(crate) use crate::inventory::sources::pyyaml::PyValue;

/// A value with where it was set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Var {
    pub value: PyValue,
    pub origin: Origin,
}

impl PyValue {
    /// Jinja's markers: Ansible templates a string holding one of them
    /// when it uses the value, which sshdeck cannot do.
    pub fn is_templated(&self) -> bool {
        match self {
            PyValue::Str(s) => s.contains("{{") || s.contains("{%") || s.contains("{#"),
            _ => false,
        }
    }

    /// What `str(value)` gives, for the values a name can be.
    pub fn as_text(&self) -> Option<String> {
        match self {
            PyValue::Str(s) | PyValue::Literal(s) => Some(s.clone()),
            PyValue::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    /// What Python's `int(value)` gives (Ansible's ssh plugin reads the
    /// port that way); None when it would raise.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            PyValue::Int(i) => Some(*i),
            PyValue::Bool(b) => Some(i64::from(*b)),
            PyValue::Str(s) | PyValue::Literal(s) => py_int(s),
            _ => None,
        }
    }
}

/// Python's `int(text)`: blanks around, a sign, decimal digits with
/// single underscores between them.
pub(crate) fn py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let n = decimal_with_underscores(digits)?;
    Some(if neg { -n } else { n })
}

fn decimal_with_underscores(digits: &str) -> Option<i64> {
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    clean.parse().ok()
}

/// Python's `ast.literal_eval` on an INI value, as far as the types
/// matter here: numbers, booleans, None and quoted strings are
/// converted; anything else it would refuse stays the text itself.
pub(crate) fn ini_value(text: &str) -> PyValue {
    // literal_eval drops leading blanks (Python 3.10 and later).
    let t = text.trim_start_matches([' ', '\t']);
    // Python's tokenizer drops a comment after the literal.
    let body = without_comment(t).trim_end();
    match body {
        "True" => return PyValue::Bool(true),
        "False" => return PyValue::Bool(false),
        "None" => return PyValue::Null,
        _ => {}
    }
    let (sign, unsigned) = match body.as_bytes().first() {
        Some(b'-') => (-1, body[1..].trim_start()),
        Some(b'+') => (1, body[1..].trim_start()),
        _ => (1, body),
    };
    if let Some(n) = py_int_literal(unsigned) {
        return PyValue::Int(sign * n);
    }
    if let Some(f) = py_float_literal(unsigned) {
        return PyValue::Float(if sign < 0 { -f } else { f });
    }
    if sign == 1
        && let Some(s) = py_string_literal(body)
    {
        return PyValue::Str(s);
    }
    let compound = matches!(body.as_bytes().first(), Some(b'[' | b'(' | b'{'));
    if compound && looks_like_python_container(body) {
        return PyValue::Compound;
    }
    PyValue::Str(text.to_string())
}

/// `t` up to a `#` outside quotes.
fn without_comment(t: &str) -> &str {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in t.char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') => return &t[..i],
            _ => {}
        }
    }
    t
}

/// An integer literal in Python source: `0`, `22`, `1_000`, `0x1f`,
/// `0o17`, `0b11`. `022` is a syntax error in Python 3, so not one.
fn py_int_literal(t: &str) -> Option<i64> {
    let lower = t.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let rest = rest.strip_prefix('_').unwrap_or(rest);
            if rest.is_empty() || rest.ends_with('_') || rest.contains("__") {
                return None;
            }
            return i64::from_str_radix(&rest.replace('_', ""), radix).ok();
        }
    }
    let n = decimal_with_underscores(t)?;
    if t.len() > 1 && t.starts_with('0') && n != 0 {
        return None;
    }
    if t.starts_with('0') && t.bytes().any(|b| b != b'0' && b != b'_') {
        return None;
    }
    Some(n)
}

fn py_float_literal(t: &str) -> Option<f64> {
    let ok = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && (t.contains('.') || t.contains(['e', 'E']));
    if !ok {
        return None;
    }
    t.replace('_', "").parse().ok()
}

/// A single Python string literal ('…' or "…", optionally r-prefixed),
/// with its escapes. None when the text is anything else.
fn py_string_literal(t: &str) -> Option<String> {
    let (raw, t) = match t.strip_prefix(['r', 'R']) {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix(['u', 'U']).unwrap_or(t)),
    };
    let quote = t.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    if t.len() < 2 || !t.ends_with(quote) {
        return None;
    }
    let inner = &t[1..t.len() - 1];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => return None,
            c if c == quote => return None,
            '\\' if raw => {
                out.push('\\');
                out.push(chars.next()?);
            }
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                c @ ('\\' | '\'' | '"') => out.push(c),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// A list, tuple, dict or set literal: balanced brackets and nothing a
/// literal may not hold (a name, a call, `{{ templating }}`).
fn looks_like_python_container(t: &str) -> bool {
    let mut open: Vec<char> = Vec::new();
    let mut quote: Option<char> = None;
    let mut bare = String::new();
    for c in t.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        let word = c.is_alphanumeric() || c == '_' || c == '.';
        if !word {
            // A name is no literal, but True, False, None and numbers are.
            let number = bare.starts_with(|c: char| c.is_ascii_digit() || c == '.');
            if !(bare.is_empty() || number || matches!(bare.as_str(), "True" | "False" | "None")) {
                return false;
            }
            bare.clear();
        }
        match c {
            c if word => bare.push(c),
            '\'' | '"' => quote = Some(c),
            '[' | '(' | '{' => open.push(c),
            ']' | ')' | '}' => {
                let want = match c {
                    ']' => '[',
                    ')' => '(',
                    _ => '{',
                };
                if open.pop() != Some(want) {
                    return false;
                }
            }
            // A key's colon, in a dict only (`[::1]` is no literal).
            ':' if open.last() == Some(&'{') => {}
            ',' | '-' | '+' | ' ' | '\t' => {}
            _ => return false,
        }
    }
    open.is_empty() && quote.is_none() && bare.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_values_are_typed_as_literal_eval_types_them() {
        assert_eq!(ini_value("22"), PyValue::Int(22));
        assert_eq!(ini_value("-3"), PyValue::Int(-3));
        assert_eq!(ini_value("0x10"), PyValue::Int(16));
        assert_eq!(ini_value("1_000"), PyValue::Int(1000));
        // A leading zero is a syntax error in Python 3: the text stays.
        assert_eq!(ini_value("022"), PyValue::Str("022".into()));
        assert_eq!(ini_value("True"), PyValue::Bool(true));
        assert_eq!(ini_value("true"), PyValue::Str("true".into()));
        assert_eq!(ini_value("'bob'"), PyValue::Str("bob".into()));
        assert_eq!(ini_value("10.0.0.1"), PyValue::Str("10.0.0.1".into()));
        assert_eq!(ini_value("1.5"), PyValue::Float(1.5));
        assert_eq!(ini_value("[1, 2]"), PyValue::Compound);
        assert_eq!(ini_value("{'a': [1, -2.5, None]}"), PyValue::Compound);
        assert_eq!(ini_value("[::1]"), PyValue::Str("[::1]".into()));
        assert_eq!(ini_value("[a, b]"), PyValue::Str("[a, b]".into()));
        assert_eq!(ini_value("{{ x }}"), PyValue::Str("{{ x }}".into()));
        assert!(ini_value("{{ x }}").is_templated());
        // A comment after a literal is dropped; after other text it stays.
        assert_eq!(ini_value("22 # c"), PyValue::Int(22));
        assert_eq!(ini_value("'q' # c"), PyValue::Str("q".into()));
        assert_eq!(ini_value("'a#b'"), PyValue::Str("a#b".into()));
        assert_eq!(ini_value("bob # c"), PyValue::Str("bob # c".into()));
    }

    #[test]
    fn python_int_accepts_what_int_accepts() {
        assert_eq!(py_int(" 022 "), Some(22));
        assert_eq!(py_int("+2_2"), Some(22));
        assert_eq!(py_int("2__2"), None);
        assert_eq!(py_int("22a"), None);
        assert_eq!(py_int(""), None);
    }
}

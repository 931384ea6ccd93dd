//! Plain YAML scalars typed as PyYAML types them (YAML 1.1): `yes` is
//! true, `022` is 18, `1:30` is 90. Ansible and ClusterShell both read
//! their YAML with PyYAML, so a file means to sshdeck what it means to them.

#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    Str(String),
    /// `!unsafe`: text Ansible never templates.
    Literal(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// A list or a mapping: nothing sshdeck reads is one.
    Compound,
    /// `!vault`, or a variable from a vault-encrypted file.
    Vault,
}

/// A plain YAML scalar resolved as PyYAML (YAML 1.1) resolves it.
pub fn yaml_plain(text: &str) -> PyValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return PyValue::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return PyValue::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return PyValue::Bool(false);
        }
        _ => {}
    }
    let (sign, body) = match text.as_bytes()[0] {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    if let Some(n) = yaml11_int(body) {
        return PyValue::Int(sign * n);
    }
    if yaml11_float(text)
        && let Ok(f) = text.replace('_', "").parse::<f64>()
    {
        return PyValue::Float(f);
    }
    PyValue::Str(text.to_string())
}

/// YAML 1.1 integers: `0b…`, `0x…`, a leading `0` for octal, decimal
/// with `_`, and base 60 (`1:30` is 90).
fn yaml11_int(body: &str) -> Option<i64> {
    let b = body.as_bytes();
    if b.is_empty() {
        return None;
    }
    let digits_of = |s: &str, ok: fn(u8) -> bool| {
        !s.is_empty() && s.bytes().all(|c| ok(c) || c == b'_') && s.bytes().any(ok)
    };
    if let Some(rest) = body.strip_prefix("0b") {
        return digits_of(rest, |c| c == b'0' || c == b'1')
            .then(|| i64::from_str_radix(&rest.replace('_', ""), 2).ok())?;
    }
    if let Some(rest) = body.strip_prefix("0x") {
        return digits_of(rest, |c| c.is_ascii_hexdigit())
            .then(|| i64::from_str_radix(&rest.replace('_', ""), 16).ok())?;
    }
    if body.len() > 1 && body.starts_with('0') {
        return digits_of(body, |c| (b'0'..=b'7').contains(&c))
            .then(|| i64::from_str_radix(&body.replace('_', ""), 8).ok())?;
    }
    if body.contains(':') {
        let mut parts = body.split(':');
        let head = parts.next()?;
        if head.is_empty()
            || !head.bytes().all(|c| c.is_ascii_digit() || c == b'_')
            || head.starts_with('0')
        {
            return None;
        }
        let mut n: i64 = head.replace('_', "").parse().ok()?;
        for p in parts {
            let ok = !p.is_empty() && p.len() <= 2 && p.bytes().all(|c| c.is_ascii_digit());
            let v: i64 = if ok { p.parse().ok()? } else { return None };
            if v > 59 {
                return None;
            }
            n = n.checked_mul(60)?.checked_add(v)?;
        }
        return Some(n);
    }
    if b[0].is_ascii_digit() && digits_of(body, |c| c.is_ascii_digit()) {
        return body.replace('_', "").parse().ok();
    }
    None
}

fn yaml11_float(text: &str) -> bool {
    let t = text.trim_start_matches(['-', '+']);
    let mantissa_ok = |m: &str| {
        m.contains('.')
            && m.bytes()
                .all(|c| c.is_ascii_digit() || c == b'.' || c == b'_')
            && m.bytes().filter(|c| *c == b'.').count() == 1
    };
    match t.split_once(['e', 'E']) {
        Some((m, e)) => {
            let e = e.trim_start_matches(['-', '+']);
            mantissa_ok(m) && !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
        }
        None => mantissa_ok(t) && t.bytes().any(|c| c.is_ascii_digit()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_plain_scalars_resolve_as_yaml_1_1() {
        assert_eq!(yaml_plain("22"), PyValue::Int(22));
        assert_eq!(yaml_plain("022"), PyValue::Int(18));
        assert_eq!(yaml_plain("0x1F"), PyValue::Int(31));
        assert_eq!(yaml_plain("1:30"), PyValue::Int(90));
        assert_eq!(yaml_plain("yes"), PyValue::Bool(true));
        assert_eq!(yaml_plain("~"), PyValue::Null);
        assert_eq!(yaml_plain("1.5"), PyValue::Float(1.5));
        assert_eq!(yaml_plain("web01"), PyValue::Str("web01".into()));
        assert_eq!(yaml_plain("10.0.0.1"), PyValue::Str("10.0.0.1".into()));
        assert_eq!(yaml_plain("09"), PyValue::Str("09".into()));
    }
}

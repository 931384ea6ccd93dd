//! Splitting ssh_config lines the way OpenSSH's `readconf.c` does: the
//! keyword (`strdelim`), then the arguments (`argv_split`), or the raw rest
//! of the line for the directives that take a command.

/// One meaningful line: its keyword (lowercased) and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub keyword: String,
    /// The rest after the keyword and its separator (whitespace or one
    /// `=`), as written: ProxyCommand and ProxyJump take it raw.
    pub rest: &'a str,
}

const WS: &[char] = &[' ', '\t', '\r', '\n'];

/// The keyword and the rest of a line; `None` for blank lines and
/// comments.
pub fn split_line(raw: &str) -> Option<Line<'_>> {
    let line = raw.trim_end_matches([' ', '\t', '\r', '\n', '\x0c']);
    let line = line.trim_start_matches(WS);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find([' ', '\t', '\r', '\n', '"', '='])
        .unwrap_or(line.len());
    let keyword = line[..end].to_ascii_lowercase();
    let mut rest = line[end..].trim_start_matches(WS);
    // One `=` may separate the keyword from its arguments.
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start_matches(WS);
    }
    Some(Line { keyword, rest })
}

/// `argv_split` with comments: words split on spaces and tabs, `'` and `"`
/// quote (pieces join: `a"b c"d` is `ab cd`), `\\`, `\"`, `\'` and (outside
/// quotes) `\ ` escape, any other backslash is kept, and a `#` starting a
/// word ends the line.
pub fn argv_split(s: &str) -> Result<Vec<String>, &'static str> {
    let b: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == ' ' || b[i] == '\t' {
            i += 1;
            continue;
        }
        if b[i] == '#' {
            break;
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while i < b.len() {
            let c = b[i];
            if c == '\\' {
                let next = b.get(i + 1).copied();
                match next {
                    Some('\'' | '"' | '\\') => {
                        arg.push(next.unwrap_or_default());
                        i += 2;
                        continue;
                    }
                    Some(' ') if quote.is_none() => {
                        arg.push(' ');
                        i += 2;
                        continue;
                    }
                    _ => arg.push(c),
                }
            } else if quote.is_none() && (c == ' ' || c == '\t') {
                break;
            } else if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
            } else if quote == Some(c) {
                quote = None;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if quote.is_some() {
            return Err("invalid quotes");
        }
        out.push(arg);
    }
    Ok(out)
}

/// `strdelim` as `Match` uses it: words split on whitespace and `=`, double
/// quotes only (no escapes), a word starting with `#` ends the line.
pub fn match_words(s: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches(WS);
    while !rest.is_empty() {
        if rest.starts_with('#') {
            break;
        }
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').ok_or("no matching quote")?;
            out.push(q[..end].to_string());
            rest = &q[end + 1..];
        } else {
            let end = rest
                .find([' ', '\t', '\r', '\n', '=', '"'])
                .unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        rest = rest.trim_start_matches(WS);
        if let Some(r) = rest.strip_prefix('=') {
            rest = r.trim_start_matches(WS);
        }
    }
    Ok(out)
}

/// How sshdeck treats a keyword: one it resolves, one OpenSSH knows that
/// sshdeck has no use for, or one OpenSSH would reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Used,
    Ignored,
    Unknown,
}

/// The directives sshdeck resolves (lowercase, aliases included).
const USED: &[&str] = &[
    "host",
    "match",
    "include",
    "hostname",
    "user",
    "port",
    "identityfile",
    "identityfile2",
    "certificatefile",
    "identitiesonly",
    "proxyjump",
    "proxycommand",
    "userknownhostsfile",
    "globalknownhostsfile",
    "stricthostkeychecking",
    "compression",
    "hostkeyalias",
    "identityagent",
    "serveraliveinterval",
    "protocolkeepalives",
    "setuptimeout",
    "serveralivecountmax",
    "connectionattempts",
    "preferredauthentications",
    "batchmode",
    "hashknownhosts",
    "connecttimeout",
    "canonicalizehostname",
    "ignoreunknown",
];

/// Everything else OpenSSH 9.2 (with Debian's additions) accepts.
const OTHER: &[&str] = &[
    "protocol",
    "cipher",
    "fallbacktorsh",
    "globalknownhostsfile2",
    "rhostsauthentication",
    "userknownhostsfile2",
    "useroaming",
    "usersh",
    "useprivilegedport",
    "afstokenpassing",
    "kerberosauthentication",
    "kerberostgtpassing",
    "rsaauthentication",
    "rhostsrsaauthentication",
    "compressionlevel",
    "gssapiauthentication",
    "gssapidelegatecredentials",
    "gssapikeyexchange",
    "gssapitrustdns",
    "gssapirenewalforcesrekey",
    "gssapikexalgorithms",
    "gssapiclientidentity",
    "gssapiserveridentity",
    "pkcs11provider",
    "smartcarddevice",
    "forwardagent",
    "forwardx11",
    "forwardx11trusted",
    "forwardx11timeout",
    "exitonforwardfailure",
    "xauthlocation",
    "gatewayports",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "kbdinteractivedevices",
    "challengeresponseauthentication",
    "skeyauthentication",
    "tisauthentication",
    "pubkeyauthentication",
    "dsaauthentication",
    "hostbasedauthentication",
    "addkeystoagent",
    "ciphers",
    "macs",
    "remoteforward",
    "localforward",
    "permitremoteopen",
    "escapechar",
    "checkhostip",
    "tcpkeepalive",
    "keepalive",
    "numberofpasswordprompts",
    "syslogfacility",
    "loglevel",
    "logverbose",
    "dynamicforward",
    "hostkeyalgorithms",
    "casignaturealgorithms",
    "bindaddress",
    "bindinterface",
    "clearallforwardings",
    "enablesshkeysign",
    "verifyhostkeydns",
    "nohostauthenticationforlocalhost",
    "rekeylimit",
    "addressfamily",
    "sendenv",
    "setenv",
    "controlpath",
    "controlmaster",
    "controlpersist",
    "tunnel",
    "tunneldevice",
    "localcommand",
    "permitlocalcommand",
    "remotecommand",
    "visualhostkey",
    "kexalgorithms",
    "ipqos",
    "requesttty",
    "sessiontype",
    "stdinnull",
    "forkafterauthentication",
    "proxyusefdpass",
    "canonicaldomains",
    "canonicalizefallbacklocal",
    "canonicalizemaxdots",
    "canonicalizepermittedcnames",
    "streamlocalbindmask",
    "streamlocalbindunlink",
    "revokedhostkeys",
    "fingerprinthash",
    "updatehostkeys",
    "hostbasedacceptedalgorithms",
    "hostbasedkeytypes",
    "pubkeyacceptedalgorithms",
    "pubkeyacceptedkeytypes",
    "securitykeyprovider",
    "knownhostscommand",
    "requiredrsasize",
    "enableescapecommandline",
];

pub fn known(keyword: &str) -> Known {
    if USED.contains(&keyword) {
        Known::Used
    } else if OTHER.contains(&keyword) {
        Known::Ignored
    } else {
        Known::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_take_space_or_one_equals() {
        for l in [
            "Port=1",
            "Port = 1",
            "Port =1",
            "Port= 1",
            "\tPORT\t1",
            "port 1\r",
        ] {
            let got = split_line(l).unwrap();
            assert_eq!((got.keyword.as_str(), got.rest), ("port", "1"), "{l:?}");
        }
        assert_eq!(split_line("Port == 1").unwrap().rest, "= 1");
        assert_eq!(split_line("  # c"), None);
        assert_eq!(split_line("   "), None);
    }

    #[test]
    fn arguments_split_like_argv_split() {
        let a = |s: &str| argv_split(s).unwrap();
        assert_eq!(a("a b\tc"), ["a", "b", "c"]);
        assert_eq!(a("\"a b\"c"), ["a bc"]);
        assert_eq!(a("a\"b c\"d"), ["ab cd"]);
        assert_eq!(a("bob\\ smith"), ["bob smith"]);
        assert_eq!(a("a\\\"b"), ["a\"b"]);
        assert_eq!(a("a\\nb"), ["a\\nb"]);
        assert_eq!(a("22 # comment"), ["22"]);
        assert_eq!(a("2007#c"), ["2007#c"]);
        assert_eq!(a("'x \"y' z"), ["x \"y", "z"]);
        assert_eq!(a("\"\""), [""]);
        assert!(argv_split("\"open").is_err());
    }

    #[test]
    fn match_words_split_on_equals_and_double_quotes() {
        let m = |s: &str| match_words(s).unwrap();
        assert_eq!(m("host=h user u"), ["host", "h", "user", "u"]);
        assert_eq!(
            m("exec \"test -f x\" host h"),
            ["exec", "test -f x", "host", "h"]
        );
        assert_eq!(m("exec 'true x'"), ["exec", "'true", "x'"]);
        assert_eq!(m("all # c"), ["all"]);
    }
}

//! `%` tokens, `~` and `${VAR}` in ssh_config values, as OpenSSH expands
//! them (`percent_expand`, `tilde_expand`, `vdollar_percent_expand`).

use std::collections::BTreeMap;

/// Token values for one host: `%C %d %h %i %k %L %l %n %p %r %u` (`%%`
/// is always `%`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens(BTreeMap<char, String>);

/// What this machine is, as OpenSSH reads it: the password database (not
/// `$HOME`), and gethostname(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    pub user: String,
    pub home: String,
    pub uid: u32,
    pub hostname: String,
}

impl Local {
    pub fn read() -> Local {
        // SAFETY: getuid has no preconditions; getpwuid's result is copied
        // out at once.
        let uid = unsafe { libc::getuid() };
        let mut home = String::new();
        unsafe {
            let pw = libc::getpwuid(uid);
            if !pw.is_null() && !(*pw).pw_dir.is_null() {
                home = std::ffi::CStr::from_ptr((*pw).pw_dir)
                    .to_string_lossy()
                    .into_owned();
            }
        }
        if home.is_empty() {
            home = std::env::var("HOME").unwrap_or_else(|_| "/".into());
        }
        let mut buf = [0u8; 256];
        // SAFETY: a writable buffer of the given length.
        let hostname = if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            String::from_utf8_lossy(&buf[..end]).into_owned()
        } else {
            String::new()
        };
        Local {
            user: crate::engine::connection::target::local_user(),
            home,
            uid,
            hostname,
        }
    }
}

impl Tokens {
    /// The values for `host` on `port` as `user`; `orig` is the name as
    /// typed and `alias` the HostKeyAlias, if any.
    pub fn new(
        local: &Local,
        host: &str,
        port: u16,
        user: &str,
        orig: &str,
        alias: Option<&str>,
    ) -> Tokens {
        use sha1::Digest;
        let c = sha1::Sha1::digest(format!("{}{host}{port}{user}", local.hostname).as_bytes());
        let short = local.hostname.split('.').next().unwrap_or("").to_string();
        let mut m = BTreeMap::new();
        m.insert('C', data_encoding::HEXLOWER.encode(&c));
        m.insert('d', local.home.clone());
        m.insert('h', host.to_string());
        m.insert('i', local.uid.to_string());
        m.insert('k', alias.unwrap_or(orig).to_string());
        m.insert('L', short);
        m.insert('l', local.hostname.clone());
        m.insert('n', orig.to_string());
        m.insert('p', port.to_string());
        m.insert('r', user.to_string());
        m.insert('u', local.user.clone());
        Tokens(m)
    }

    /// Only `%h` (what HostName may use).
    pub fn host_only(orig: &str) -> Tokens {
        Tokens(BTreeMap::from([('h', orig.to_string())]))
    }

    /// Keep only the tokens in `keys` (ProxyCommand takes `%h %k %n %p %r`).
    pub fn only(&self, keys: &str) -> Tokens {
        Tokens(
            self.0
                .iter()
                .filter(|(k, _)| keys.contains(**k))
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
        )
    }

    /// Replace `%x` tokens (and `${VAR}` with `env`) in one left-to-right
    /// scan, so a replacement is never expanded again.
    pub fn expand(&self, s: &str, env: bool) -> Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '%' => match chars.next() {
                    Some('%') => out.push('%'),
                    Some(k) => match self.0.get(&k) {
                        Some(v) => out.push_str(v),
                        None => return Err(format!("unknown key %{k}")),
                    },
                    None => return Err("invalid format: % at the end".into()),
                },
                '$' if env && chars.peek() == Some(&'{') => {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err("${ without a closing }".into()),
                        }
                    }
                    if name.is_empty() {
                        return Err("empty ${} name".into());
                    }
                    match std::env::var(&name) {
                        Ok(v) => out.push_str(&v),
                        Err(_) => return Err(format!("env var ${{{name}}} has no value")),
                    }
                }
                c => out.push(c),
            }
        }
        Ok(out)
    }
}

/// A leading `~` or `~/` is the user's home from the password database;
/// `~name/` is that user's.
pub fn tilde(s: &str, local: &Local) -> Result<String, String> {
    let Some(rest) = s.strip_prefix('~') else {
        return Ok(s.to_string());
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if user.is_empty() {
        let tail = tail.trim_start_matches('/');
        return Ok(if tail.is_empty() {
            local.home.clone()
        } else {
            format!("{}/{tail}", local.home.trim_end_matches('/'))
        });
    }
    let name = std::ffi::CString::new(user).map_err(|_| format!("bad user in {s:?}"))?;
    // SAFETY: a valid C string; the result is copied out at once.
    let home = unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() || (*pw).pw_dir.is_null() {
            return Err(format!("no such user {user:?} in {s:?}"));
        }
        std::ffi::CStr::from_ptr((*pw).pw_dir)
            .to_string_lossy()
            .into_owned()
    };
    Ok(format!("{home}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Local {
        Local {
            user: "me".into(),
            home: "/home/me".into(),
            uid: 1000,
            hostname: "vm".into(),
        }
    }

    #[test]
    fn tokens_expand_once_left_to_right() {
        let t = Tokens::new(&local(), "tgt", 2200, "bob", "Alias", None);
        assert_eq!(
            t.expand("%h:%p %r %n %u %d %i %L %%h", false).unwrap(),
            "tgt:2200 bob Alias me /home/me 1000 vm %h"
        );
        // sha1("vmtgt2200bob")
        use sha1::Digest;
        let want = data_encoding::HEXLOWER.encode(&sha1::Sha1::digest(b"vmtgt2200bob"));
        assert_eq!(t.expand("%C", false).unwrap(), want);
        assert!(t.expand("%x", false).is_err());
        assert!(t.expand("100%", false).is_err());
        assert_eq!(t.expand("${x", false).unwrap(), "${x");
        assert!(Tokens::host_only("a").expand("%p", false).is_err());
    }

    #[test]
    fn home_comes_from_the_password_database() {
        assert_eq!(tilde("~/.ssh/k", &local()).unwrap(), "/home/me/.ssh/k");
        assert_eq!(tilde("~", &local()).unwrap(), "/home/me");
        assert_eq!(tilde("/abs/~", &local()).unwrap(), "/abs/~");
        assert!(tilde("~nosuchuser-xyz/k", &local()).is_err());
    }
}

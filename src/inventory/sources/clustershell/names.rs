//! Group names as sources give them (a `list` upcall, YAML keys): each
//! must be usable after `@` in node-set text, so a name is refused when
//! it holds an operator, a blank or a control character.

use crate::inventory::nodeset::{NoGroups, expand};
use crate::inventory::sources::{Origin, SourceError, unsafe_char};

use super::config::visible;

/// Check listed names and expand their ranges (`rack[1-2]` lists rack1
/// and rack2, as ClusterShell's group list does), each name once.
pub fn checked<'a>(
    names: impl Iterator<Item = &'a str>,
    origin: &Origin,
) -> Result<Vec<String>, SourceError> {
    let bad = |msg: String| SourceError::Invalid {
        origin: origin.clone(),
        msg,
    };
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if let Some(c) = unsafe_char(name) {
            return Err(bad(format!(
                "group name {:?} holds {:?}, which node sets cannot name",
                visible(name),
                visible(&c.to_string())
            )));
        }
        let expanded = if name.contains('[') {
            expand(name, &NoGroups)
                .map_err(|e| bad(format!("group name {}: {}", visible(name), e.msg)))?
                .into_vec()
        } else {
            vec![name.to_string()]
        };
        for n in expanded {
            if seen.insert(n.clone()) {
                out.push(n);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_checked_and_expanded() {
        let o = Origin::new("/g.conf", 3);
        let got = checked(["a", "rack[1-2]", "a", "rack1"].into_iter(), &o).unwrap();
        assert_eq!(got, ["a", "rack1", "rack2"]);
        for bad in ["a,b", "x!y", "@a", "a*", "a\u{1b}b", "n[1-"] {
            let e = checked([bad].into_iter(), &o).expect_err(bad).to_string();
            assert!(e.starts_with("/g.conf:3: "), "{e}");
        }
    }
}
